"""Tamper-evident history: the owner, who can switch the append-only triggers off, edits,
removes or rehashes a row, and the chain names the first link that no longer holds."""

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
    assert verdict.broken_at is None, verdict
    assert verdict.rows == db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_new_rows_extend_the_chain(db, gql):
    before = history.verify(db, "flag_change")
    target = db.execute(text("SELECT min(id) FROM enterprise")).scalar_one()
    gql.data(
        'mutation ($id: ID!) { overrideFlag(targetId: $id, color: RED, reason: "复查") { color } }',
        id=f"Enterprise:{target}",
    )
    after = history.verify(db, "flag_change")
    assert after.broken_at is None and after.rows == before.rows + 1 and after.head != before.head


def _tamper(db: Connection, statement: str, row_id: int) -> None:
    db.exec_driver_sql("ALTER TABLE flag_change DISABLE TRIGGER flag_change_append_only")
    db.execute(text(statement), {"id": row_id})
    db.exec_driver_sql("ALTER TABLE flag_change ENABLE TRIGGER flag_change_append_only")


def _position(db: Connection, offset: int) -> tuple[int, int]:
    return db.execute(text(
        "SELECT chain_position, id FROM flag_change ORDER BY chain_position OFFSET :n LIMIT 1"
    ), {"n": offset}).one()  # fmt: skip


def test_an_edited_row_is_reported(db):
    position, row_id = _position(db, 100)
    _tamper(db, "UPDATE flag_change SET reason = 'nothing happened' WHERE id = :id", row_id)
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_at, verdict.broken_id, verdict.why) == (
        position, row_id, "this row was changed"
    )
    assert f"BROKEN at position {position}" in str(verdict)


def test_a_removed_row_is_reported_at_the_next(db):
    position, row_id = _position(db, 100)
    _tamper(db, "DELETE FROM flag_change WHERE id = :id", row_id)
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_at, verdict.why) == (position + 1, "rows before it are missing")


def test_an_edited_and_rehashed_row_is_reported_at_the_next(db):
    position, row_id = _position(db, 100)
    _tamper(db, "UPDATE flag_change SET reason = 'nothing happened' WHERE id = :id", row_id)
    _tamper(db, """UPDATE flag_change t SET chain_hash =
        fugong_chain_link(t.chain_prev, fugong_chain_content(t)) WHERE id = :id""", row_id)
    verdict = history.verify(db, "flag_change")
    assert (verdict.broken_at, verdict.why) == (position + 1, "the row before it was changed")


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
