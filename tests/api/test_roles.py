"""The serving role can do what requests need and nothing more: each refused statement below is
what one injection or careless line would run to erase history or reach the host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from api import roles
from geo.db import make_engine
from tests.conftest import rolled_back


@pytest.fixture(scope="module")
def app_engine(app_url: str) -> Iterator[Engine]:
    engine = make_engine(app_url, pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def app(app_engine: Engine) -> Iterator[Connection]:
    with rolled_back(app_engine) as connection:
        yield connection


REFUSED = [
    "TRUNCATE flag_change",
    "TRUNCATE audit_log",
    "TRUNCATE enterprise CASCADE",
    "ALTER TABLE flag_change DISABLE TRIGGER ALL",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "ALTER TABLE enterprise ADD COLUMN x int",
    "CREATE TABLE evil (x int)",
    "DROP TABLE signboard",
    "SET session_replication_role = replica",
    "COPY (SELECT 1) TO PROGRAM 'id'",
    "COPY enterprise TO '/tmp/fugong-leak.csv'",
    "UPDATE flag_change SET reason = 'rewritten'",
    "DELETE FROM audit_log",
    "UPDATE account SET role = 'DISTRICT_OFFICER'",
    "INSERT INTO area (code, name, level, boundary) SELECT code || '9', name, level, boundary FROM area LIMIT 1",
    "CREATE ROLE intruder SUPERUSER",
    "ALTER ROLE fugong_app SUPERUSER",
    "CREATE EXTENSION IF NOT EXISTS plpython3u",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_the_serving_role_is_refused(app, statement):
    with pytest.raises(DBAPIError) as refusal:
        app.execute(text(statement))
    assert refusal.value.orig.pgcode in {"42501", "0A000", "58P01"}, refusal.value  # type: ignore[union-attr]


def test_the_serving_role_is_no_superuser_and_owns_nothing(app):
    assert app.execute(text("SELECT current_user")).scalar_one() == roles.APP
    assert not app.execute(text("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles WHERE rolname = current_user")).scalar_one()
    owned = app.execute(text("SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole")).scalar_one()
    assert owned == 0


def test_the_serving_role_does_what_requests_need(app):
    # Reads, an enterprise's facts changed, an audited read appended.
    assert app.execute(text("SELECT count(*) FROM enterprise")).scalar_one() > 0
    app.execute(text("UPDATE enterprise SET capacity_pct = capacity_pct WHERE id = (SELECT min(id) FROM enterprise)"))
    account = app.execute(text("SELECT id FROM account WHERE username = 'district'")).scalar_one()
    app.execute(text("SELECT set_config('fugong.account_id', :a, true), set_config('fugong.role', 'DISTRICT_OFFICER', true)"), {"a": str(account)})
    app.execute(
        text("INSERT INTO audit_log (account_id, action, target, fields) VALUES (:a, 'read', 'Enterprise:1', '{contactPhone}')"),
        {"a": account},
    )
