"""The demo Changle District: MADE-UP data for development, demos and load tests.

Town boundaries, villages, patrol zones, every position, person, phone number, credit code and
figure are invented (areas carry synthetic = true); only the place names and the names of the
enterprises, sites and quarantine sites mentioned in the report of 27 February 2020 are real.
The same `enterprises` count always gives the same rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from geo.days import today
from geo.errors import BadInput
from geo.seed import demo
from geo.seed.accounts import add_demo_accounts
from geo.seed.daily import seed_daily
from geo.seed.load import TABLES, advance_sequences, analyze, copy_batches
from geo.seed.zones import recut_zones

DEMO_ENTERPRISES = 2000
DEMO_FIRST_DAY = date(2020, 2, 1)


def demo_days_back() -> int:
    """Days from the demo's February 2020 to today: FUGONG_PLAN_DAYS_BACK that stores the
    demo's route plans as a district's own days would be (geo/retention.py)."""
    return (today() - DEMO_FIRST_DAY).days


def seed(
    connection: Connection, enterprises: int = DEMO_ENTERPRISES, progress: bool = False
) -> dict[str, int]:
    """Write the demo into an empty, migrated database; the caller commits. Rows per table."""
    if not is_empty(connection):
        raise BadInput("the demo seeds an empty database only: reset() it first")
    total = demo.estimated_rows(enterprises)
    written = copy_batches(connection, demo.batches(enterprises), total, progress)
    written["patrol_zone"] = recut_zones(connection)  # zones as many as the targets need
    written |= add_demo_accounts(connection)
    for table, rows in seed_daily(connection, enterprises).items():
        written[table] = written.get(table, 0) + rows  # the flag changes of fever cases too
    advance_sequences(connection)
    analyze(connection)
    return written


def is_empty(connection: Connection) -> bool:
    return connection.execute(text("SELECT NOT EXISTS (SELECT FROM area)")).scalar_one()


def reset(connection: Connection) -> None:
    # History starts over, and with it the hash chains through the logs.
    tables = ", ".join((*TABLES, "history_chain"))
    connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
