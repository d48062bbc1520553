"""Checks the hash chains through the append-only logs (migrations/sql/history_chain.sql): the
first row whose link does not hold, and the head hash to keep somewhere else.

A link fails when a row was edited (its hash is no longer that of its content), when a row
before it was removed (its position skips) or when the row before it was edited and rehashed
(its stored previous hash no longer matches). Whoever can rewrite every row after it, the
owner, could hide an edit: record the head hash outside the database to catch that too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

CHAINED = ("flag_change", "audit_log")


@dataclass(frozen=True)
class Verdict:
    table: str
    rows: int
    head: str | None  # the last row's hash, hex
    broken_at: int | None = None  # chain position of the first bad link
    broken_id: int | None = None
    why: str | None = None

    def __str__(self) -> str:
        if self.broken_at is None:
            return f"{self.table}: {self.rows} rows, chain intact, head {self.head or '-'}"
        return (
            f"{self.table}: BROKEN at position {self.broken_at} (id {self.broken_id}): {self.why}"
        )


_FIRST_BREAK = """
SELECT chain_position, id, CASE
        WHEN chain_position <> coalesce(prev_position + 1, 1) THEN 'rows before it are missing'
        WHEN chain_prev IS DISTINCT FROM prev_hash THEN 'the row before it was changed'
        ELSE 'this row was changed'
    END
FROM (
    SELECT t.id, t.chain_position, t.chain_prev, t.chain_hash,
        lag(t.chain_position) OVER w AS prev_position, lag(t.chain_hash) OVER w AS prev_hash,
        fugong_chain_link(t.chain_prev, fugong_chain_content(t)) AS recomputed
    FROM {table} t WINDOW w AS (ORDER BY t.chain_position)
) links
WHERE chain_position <> coalesce(prev_position + 1, 1)
   OR chain_prev IS DISTINCT FROM prev_hash
   OR chain_hash <> recomputed
ORDER BY chain_position LIMIT 1
"""


def verify(connection: Connection, table: str) -> Verdict:
    if table not in CHAINED:
        raise ValueError(f"{table} carries no hash chain")
    rows, head = connection.execute(
        text(
            f"SELECT count(*), (SELECT encode(chain_hash, 'hex') FROM {table}"  # noqa: S608
            f" ORDER BY chain_position DESC LIMIT 1) FROM {table}"
        )
    ).one()
    broken = connection.execute(text(_FIRST_BREAK.format(table=table))).first()
    if broken is None:
        return Verdict(table, rows, head)
    return Verdict(table, rows, head, broken[0], broken[1], broken[2])
