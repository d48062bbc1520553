"""Tamper-evident history: the owner, who can switch the append-only triggers off, edits,
removes or slips in a log row, or rewrites a link, and the chain names the first break."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo import history


@pytest.mark.parametrize("table", history.CHAINED)
def test_the_seeded_history_is_intact(db, table):
    verdict = history.verify(db, table)
    assert verdict.intact, verdict
    assert verdict.rows == db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_a_committed_change_extends_the_chain(db, gql):
    before = history.verify(db, "flag_change")
    # The link is made at commit; the test's transaction never commits, so make it now.
    db.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
    target = db.execute(text("SELECT min(id) FROM enterprise")).scalar_one()
    gql.data(
        'mutation ($id: ID!) { overrideFlag(targetId: $id, color: RED, reason: "复查") { color } }',
        id=f"Enterprise:{target}",
    )
    after = history.verify(db, "flag_change")
    assert after.intact and after.rows == before.rows + 1 and after.head != before.head


def test_a_transaction_is_linked_once_at_commit_in_id_order(db):
    """Rows of several statements on both logs, one of them undone by a savepoint, are linked
    in one pass when the transaction's constraints are checked, after the chain as it stood."""
    before = {table: history.verify(db, table) for table in history.CHAINED}
    insert_changes = text(
        "INSERT INTO flag_change (enterprise_id, to_color, reason, at, actor, source)"
        " SELECT id, 'GREEN', 'bulk', now(), 'rules', 'RULE' FROM enterprise"
        " ORDER BY id LIMIT :n RETURNING id"
    )
    insert_audit = text(
        "INSERT INTO audit_log (account_id, action, target, fields)"
        " SELECT (SELECT min(id) FROM account), 'READ', 'Enterprise:' || i, '{contact}'"
        " FROM generate_series(1, :n) i RETURNING id"
    )
    added = {"flag_change": [], "audit_log": []}
    added["flag_change"] += db.execute(insert_changes, {"n": 3000}).scalars().all()
    added["audit_log"] += db.execute(insert_audit, {"n": 2000}).scalars().all()
    with db.begin_nested() as undone:
        db.execute(insert_changes, {"n": 10})
        undone.rollback()
    for _ in range(5):
        added["flag_change"] += db.execute(insert_changes, {"n": 1}).scalars().all()
    assert db.execute(text("SELECT count(*) FROM history_due")).scalar_one() == 1

    db.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")

    for table, ids in added.items():
        after = history.verify(db, table)
        assert after.intact and after.rows == before[table].rows + len(ids), after
        links = db.execute(text(
            "SELECT row_id FROM history_chain WHERE log = :log AND position > :head"
            " ORDER BY position"
        ), {"log": table, "head": before[table].rows}).scalars().all()  # fmt: skip
        assert links == sorted(ids)
    assert db.execute(text(
        "SELECT (SELECT count(*) FROM history_pending) + (SELECT count(*) FROM history_due)"
    )).scalar_one() == 0  # fmt: skip


def _tamper(db: Connection, statement: str, row_id: int) -> None:
    db.exec_driver_sql("ALTER TABLE flag_change DISABLE TRIGGER USER")
    db.execute(text(statement), {"id": row_id})
    db.exec_driver_sql("ALTER TABLE flag_change ENABLE TRIGGER USER")


def _link(db: Connection, offset: int) -> tuple[int, int]:
    return db.execute(text(
        "SELECT position, row_id FROM history_chain WHERE log = 'flag_change'"
        " ORDER BY position OFFSET :n LIMIT 1"
    ), {"n": offset}).one()  # fmt: skip


def test_an_edited_row_is_reported(db):
    position, row_id = _link(db, 100)
    _tamper(db, "UPDATE flag_change SET reason = 'nothing happened' WHERE id = :id", row_id)
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_at, verdict.broken_id, verdict.why) == (
        position, row_id, "this row was changed"
    )
    assert f"BROKEN at position {position}" in str(verdict)


def test_a_removed_row_is_reported(db):
    position, row_id = _link(db, 100)
    _tamper(db, "DELETE FROM flag_change WHERE id = :id", row_id)
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_at, verdict.why) == (position, "this row was removed")


def test_a_removed_link_is_reported_at_the_next(db):
    position, row_id = _link(db, 100)
    _tamper(db, "DELETE FROM flag_change WHERE id = :id", row_id)
    db.execute(text("DELETE FROM history_chain WHERE log = 'flag_change' AND position = :p"), {"p": position})
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_at, verdict.why) == (position + 1, "links before it are missing")


def test_an_edited_and_relinked_row_is_reported_at_the_next(db):
    position, row_id = _link(db, 100)
    _tamper(db, "UPDATE flag_change SET reason = 'nothing happened' WHERE id = :id", row_id)
    db.execute(text(
        "UPDATE history_chain c SET hash = fugong_chain_link(c.prev, fugong_chain_content(f))"
        " FROM flag_change f WHERE c.log = 'flag_change' AND c.row_id = f.id AND f.id = :id"
    ), {"id": row_id})  # fmt: skip
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_at, verdict.why) == (position + 1, "the link before it was rewritten")


def test_a_row_slipped_in_past_the_trigger_is_reported(db):
    db.exec_driver_sql("ALTER TABLE flag_change DISABLE TRIGGER flag_change_chain")
    row_id = db.execute(text(
        "INSERT INTO flag_change (enterprise_id, to_color, reason, at, actor, source)"
        " SELECT min(id), 'GREEN', 'slipped in', now(), 'rules', 'RULE' FROM enterprise"
        " RETURNING id"
    )).scalar_one()  # fmt: skip
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_id, verdict.why) == (row_id, "this row was added outside the chain")


@pytest.mark.parametrize("table", ["history_chain", "history_pending", "history_due"])
def test_the_serving_role_cannot_touch_the_chain(db, table):
    db.exec_driver_sql("SET LOCAL ROLE fugong_app")
    with pytest.raises(Exception, match="permission denied"):
        db.execute(text(f"DELETE FROM {table}"))  # noqa: S608


def test_the_command_reports_an_intact_history(engine):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "fugong"), "verify-history"],
        env={**os.environ, "DATABASE_URL": engine.url.render_as_string(False)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "flag_change:" in result.stdout and "chain intact" in result.stdout
