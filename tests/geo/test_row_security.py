"""The second wall: statements written with no scope at all, run as the serving role in a
caller's transaction, get only the caller's private rows; public rows stay public. And the
naming that raises it travels with the statements: no round trip of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api import roles
from geo.db import Databases, Timeouts, make_engine, make_sessionmaker
from geo.models import Role
from geo.row_security import name_caller
from geo.scope import ANONYMOUS, Caller

PRIVATE = ("rental_property", "quarantine_site", "patrol_zone", "inspection")


def town_officer(db: Connection) -> Caller:
    row = db.execute(text("SELECT id, town_id FROM account WHERE username = 'town'")).one()
    return Caller(row.id, "town", Role.TOWN_OFFICER, row.town_id)


def in_town(db: Connection, table: str, town_id: int) -> set[int]:
    # The oracle, read as the superuser: rows whose area is the town or a village of it.
    return set(db.execute(text(
        f"SELECT t.id FROM {table} t JOIN area a ON a.id = t.area_id"  # noqa: S608
        " WHERE a.id = :town OR a.parent_id = :town"
    ), {"town": town_id}).scalars())  # fmt: skip


def everything(db: Connection, table: str) -> set[int]:
    return set(db.execute(text(f"SELECT id FROM {table}")).scalars())  # noqa: S608


def as_serving_role(db: Connection, caller: Caller) -> None:
    db.exec_driver_sql(f"SET LOCAL ROLE {roles.APP}")
    name_caller(db, caller)


@pytest.fixture
def with_inspection(db: Connection) -> None:
    """One inspection in Jinfeng and one elsewhere, so the walled table is not empty."""
    db.execute(text(
        "INSERT INTO inspection (enterprise_id, account_id, idempotency_key, distance_m, geom, findings)"
        " SELECT e.id, a.id, 'rls-' || e.id, 0, e.geom, 'ok'"
        " FROM enterprise e, account a WHERE a.username = 'district'"
        " AND e.id IN ((SELECT min(id) FROM enterprise WHERE area_id IN (SELECT id FROM area WHERE code LIKE '350112109%')),"
        "              (SELECT min(id) FROM enterprise WHERE area_id NOT IN (SELECT id FROM area WHERE code LIKE '350112109%')))"
    ))  # fmt: skip


@pytest.mark.parametrize("table", PRIVATE)
def test_an_unscoped_statement_gets_only_the_town_officers_rows(db, table, with_inspection):
    town = town_officer(db)
    expected, total = in_town(db, table, town.town_id), everything(db, table)
    assert expected and expected != total  # the wall has something to hold back
    as_serving_role(db, town)
    assert everything(db, table) == expected


@pytest.mark.parametrize("table", PRIVATE)
def test_anonymous_gets_no_private_rows(db, table, with_inspection):
    as_serving_role(db, ANONYMOUS)
    assert everything(db, table) == set()


def test_public_rows_stay_public(db):
    expected = everything(db, "enterprise"), everything(db, "construction_site")
    as_serving_role(db, ANONYMOUS)
    assert (everything(db, "enterprise"), everything(db, "construction_site")) == expected


def test_a_town_officer_changes_nothing_outside_the_town(db):
    town = town_officer(db)
    inside = in_town(db, "enterprise", town.town_id)
    as_serving_role(db, town)
    changed = db.execute(text("UPDATE enterprise SET capacity_pct = 1 RETURNING id")).scalars()
    assert set(changed) == inside


def test_nobody_appends_to_the_audit_log_in_anothers_name(db):
    district = db.execute(text("SELECT id FROM account WHERE username = 'district'")).scalar_one()
    as_serving_role(db, town_officer(db))
    with pytest.raises(DBAPIError, match="row-level security"):
        db.execute(
            text("INSERT INTO audit_log (account_id, action, target, fields) VALUES (:a, 'READ_PERSONAL', 'x', '{}')"),
            {"a": district},
        )


# A read outside the tests' rolled-back transaction, as a server's: in autocommit, each statement
# a read-only transaction of its own that names the caller in the same round trip.


@pytest.fixture
def serving(app_url: str) -> Iterator[Databases]:
    engine = make_engine(app_url, timeouts=Timeouts())
    yield Databases(make_sessionmaker(engine))
    engine.dispose()


def test_every_statement_of_a_read_is_named_and_a_transaction_of_its_own(db, serving):
    town = town_officer(db)
    expected = in_town(db, "rental_property", town.town_id)

    def read(session: Session) -> tuple[set[int], bool]:
        first = set(session.execute(text("SELECT id FROM rental_property")).scalars())
        alone = session.execute(text("SELECT transaction_timestamp() = statement_timestamp()"))
        return first, alone.scalar_one()

    rows, alone = serving.acting_for(town).read(read)
    assert rows == expected  # named: the wall let through the town's rows, and only them
    assert alone  # the second statement began its own transaction (no BEGIN before the first)
    assert serving.read(lambda s: s.execute(text("SELECT id FROM rental_property")).all()) == []


def test_a_read_cannot_write(db, serving):
    town = town_officer(db)
    statement = text("UPDATE enterprise SET capacity_pct = capacity_pct")
    with pytest.raises(DBAPIError, match="read-only transaction"):
        serving.acting_for(town).read(lambda s: s.execute(statement))


def test_a_reads_naming_stays_with_it(db, serving):
    """The pooled connection a read used names nobody afterwards, and is transactional again."""
    serving.acting_for(town_officer(db)).read(lambda s: s.execute(text("SELECT 1")))

    def after(session: Session) -> tuple[str | None, bool]:
        role = session.execute(text("SELECT current_setting('fugong.role', true)")).scalar_one()
        driver = session.connection().connection.dbapi_connection
        return role, driver.autocommit

    with serving.primary() as session:  # the pool holds one connection: the read's
        role, autocommit = after(session)
    assert role in ("", None) and autocommit is False
