"""Checks the hash chains of the append-only logs (migrations/sql/history_chain.sql): the first
link that does not hold, and the head hash to keep somewhere else.

A link fails when its log row was edited (the hash is no longer that of its content) or
removed, when links before it are missing (its position skips), or when the link before it was
rewritten (its stored previous hash no longer matches); a committed log row with no link was
slipped in past the trigger. Whoever can rewrite every link after an edit, the owner, could
hide it: record the head hash outside the database to catch that too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

CHAINED = ("flag_change", "audit_log")


@dataclass(frozen=True)
class Verdict:
    table: str
    rows: int
    head: str | None  # the last link's hash, hex
    broken_at: int | None = None  # position of the first bad link (None: a row with no link)
    broken_id: int | None = None  # the log row's id
    why: str | None = None

    @property
    def intact(self) -> bool:
        return self.why is None

    def __str__(self) -> str:
        if self.intact:
            return f"{self.table}: {self.rows} rows, chain intact, head {self.head or '-'}"
        where = "" if self.broken_at is None else f" at position {self.broken_at}"
        return f"{self.table}: BROKEN{where} (id {self.broken_id}): {self.why}"


_FIRST_BREAK = """
SELECT position, row_id, CASE
        WHEN position <> coalesce(prev_position + 1, 1) THEN 'links before it are missing'
        WHEN prev IS DISTINCT FROM prev_hash THEN 'the link before it was rewritten'
        WHEN content IS NULL THEN 'this row was removed'
        ELSE 'this row was changed'
    END
FROM (
    SELECT c.position, c.row_id, c.prev, c.hash,
        lag(c.position) OVER w AS prev_position, lag(c.hash) OVER w AS prev_hash,
        fugong_chain_content(t) AS content
    FROM history_chain c LEFT JOIN {table} t ON t.id = c.row_id
    WHERE c.log = '{table}'
    WINDOW w AS (ORDER BY c.position)
) links
WHERE position <> coalesce(prev_position + 1, 1)
   OR prev IS DISTINCT FROM prev_hash
   OR content IS NULL
   OR hash <> fugong_chain_link(prev, content)
ORDER BY position LIMIT 1
"""

_UNLINKED = """
SELECT min(t.id) FROM {table} t
WHERE NOT EXISTS (SELECT FROM history_chain c WHERE c.log = '{table}' AND c.row_id = t.id)
"""


def verify(connection: Connection, table: str) -> Verdict:
    if table not in CHAINED:
        raise ValueError(f"{table} carries no hash chain")
    rows, head = connection.execute(
        text(
            f"SELECT (SELECT count(*) FROM {table}), (SELECT encode(hash, 'hex')"  # noqa: S608
            f" FROM history_chain WHERE log = '{table}' ORDER BY position DESC LIMIT 1)"
        )
    ).one()
    broken = connection.execute(text(_FIRST_BREAK.format(table=table))).first()
    if broken is not None:
        return Verdict(table, rows, head, broken[0], broken[1], broken[2])
    unlinked = connection.execute(text(_UNLINKED.format(table=table))).scalar_one()
    if unlinked is not None:
        return Verdict(table, rows, head, None, unlinked, "this row was added outside the chain")
    return Verdict(table, rows, head)
