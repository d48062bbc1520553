"""The migrations and the models describe one schema, and the history runs both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, Engine, inspect, text

import migrations
from geo.db import make_engine
from geo.models import Base
from tests.api.test_cli import fugong
from tests.conftest import scratch_database


@pytest.fixture(scope="module")
def fresh(engine: Engine) -> Iterator[Engine]:
    """An empty database migrated to the latest revision (no demo data)."""
    with scratch_database(engine, "history") as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection)
        yield scratch
        scratch.dispose()


def _proposed(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_object": alembic_helpers.include_object,
            "compare_type": True,
            "compare_server_default": False,
        },
    )
    return compare_metadata(context, Base.metadata)


def test_autogenerate_against_a_migrated_database_proposes_nothing(fresh: Engine):
    with fresh.connect() as connection:
        assert _proposed(connection) == []


def test_downgrade_to_base_and_upgrade_again(fresh: Engine):
    with fresh.begin() as connection:
        before = sorted(inspect(connection).get_table_names())
        migrations.downgrade(connection, "base")
        # PostGIS's own table stays with the extension, which may have been there before.
        assert set(inspect(connection).get_table_names()) == {"alembic_version", "spatial_ref_sys"}
        migrations.upgrade(connection)
        assert sorted(inspect(connection).get_table_names()) == before
        assert _proposed(connection) == []
        assert connection.execute(text("SELECT version FROM road_network")).scalar_one() == 1


def test_no_revision_imports_live_code():
    for revision in (Path(migrations.__file__).parent / "versions").glob("*.py"):
        imports = [
            line for line in revision.read_text(encoding="utf-8").splitlines()
            if line.startswith(("import ", "from "))
        ]  # fmt: skip
        assert not [line for line in imports if line.split()[1].split(".")[0] in LIVE], revision


def test_rows_present_at_0003_are_flagged_by_reassess_once(engine: Engine):
    """Migration 0003 gives rows already present the default flag and no history; `fugong
    reassess` then applies today's rules with the configured thresholds, and a second run
    changes nothing."""
    with scratch_database(engine, "reassess") as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection, "0002")
            connection.execute(text(ENTERPRISE_AT_0002))
            migrations.upgrade(connection)
            flag = connection.execute(text("SELECT flag_color, flag_reason FROM enterprise"))
            assert flag.one() == ("RED", "no status report yet")
            assert connection.execute(text("SELECT count(*) FROM flag_change")).scalar() == 0
        first = fugong("reassess", DATABASE_URL=url, FUGONG_FLAG_STAFF_RETURNED_PCT="95")
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == "1 flags changed by the rules"
        with scratch.connect() as connection:
            change = connection.execute(
                text(
                    "SELECT from_color, to_color, reason, flag_change.at = resumption_reported_at"
                    " FROM flag_change JOIN enterprise ON enterprise.id = enterprise_id"
                )
            ).one()
        # 90 of 100 back is green at the default 80 %, yellow at the configured 95 %.
        assert change == (None, "YELLOW", "10% of staff not returned (10 of 100)", True)
        again = fugong("reassess", DATABASE_URL=url, FUGONG_FLAG_STAFF_RETURNED_PCT="95")
        assert again.stdout.strip() == "0 flags changed by the rules"
        scratch.dispose()


LIVE = {"geo", "schema", "api"}
ENTERPRISE_AT_0002 = """
INSERT INTO enterprise (name, category, address, geom, staff_total, staff_returned,
    staff_out_of_province, hubei_staff_retained, resumption, problems, has_dormitory,
    resumption_reported_at)
VALUES ('通宇电缆', 'INDUSTRIAL', '古槐镇', ST_SetSRID(ST_MakePoint(119.6, 25.9), 4326),
    100, 90, 0, 0, 'FULL', '{}', false, '2020-02-20T09:00:00+08:00')
"""
