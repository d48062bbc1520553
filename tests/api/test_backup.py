"""`fugong backup`, then the database dropped, then `fugong restore`: the restored database
answers the same queries with the same results, flag histories and the audit log included,
and every table holds the same rows."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from starlette.testclient import TestClient

import migrations
from api.app import create_app
from api.auth import issue_token
from api.settings import get_settings
from geo import seed
from geo.db import make_engine
from tests.conftest import GraphQLClient, scratch_database

QUERIES = [
    '{ flagCounts(areaCode: "350112", date: "2020-02-20") { area { code } counts { green yellow red total } } }',
    '{ enterprises(first: 40) { totalCount edges { node { id name flag { color reason } flagHistory { from to at } } } } }',
    '{ area(code: "350112") { children { code name geometry(simplifyMeters: 200) } } }',
]
TILE = "/tiles/enterprises/12/3407/1744.mvt"


def fugong(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )


def tables(url: str) -> dict[str, str]:
    """Each table's rows, as an md5 of their text in a fixed order."""
    engine = make_engine(url)
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).scalars()
        found = {
            name: connection.execute(
                text(f'SELECT md5(string_agg(t::text, E\'\\n\' ORDER BY t::text)) FROM "{name}" t')  # noqa: S608
            ).scalar()
            for name in names
        }
    engine.dispose()
    return found


def answers(url: str) -> dict[str, Any]:
    settings = dataclasses.replace(get_settings(), database_url=url, retention_interval_s=0)
    engine = make_engine(url)
    with engine.connect() as connection:
        ids = dict(connection.execute(text("SELECT username, id FROM account")).all())
        rental = connection.execute(text(
            "SELECT r.id FROM rental_property r JOIN account a ON a.username = 'town'"
            " WHERE r.area_id IN (SELECT id FROM area WHERE id = a.town_id OR parent_id = a.town_id)"
            " ORDER BY r.id LIMIT 1"
        )).scalar_one()  # fmt: skip
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        district = GraphQLClient(client, issue_token(settings, ids["district"]))
        town = GraphQLClient(client, issue_token(settings, ids["town"]))
        found: dict[str, Any] = {query: district.data(query) for query in QUERIES}
        # A personal read by the town officer: one more audit row, the same on both sides.
        phone = f'{{ node(id: "RentalProperty:{rental}") {{ ... on RentalProperty {{ landlordPhone }} }} }}'
        found["phone"] = town.data(phone)
        found["tile"] = client.get(TILE).content
    return found


def test_backup_drop_restore_answers_the_same(engine: Engine, tmp_path: Path) -> None:
    with scratch_database(engine, "backup") as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection)
            seed.seed(connection, enterprises=200)  # flag histories for February 2020
        scratch.dispose()
        before = answers(url)
        rows_before = tables(url)
        # answers() read a landlord's phone: the audit log is not empty, nor the histories.
        assert rows_before["audit_log"] is not None and rows_before["flag_change"] is not None

        backup = tmp_path / "fugong.dump"
        made = fugong("backup", str(backup), url=url)
        assert made.returncode == 0, made.stderr
        admin = make_engine(engine.url.set(database="postgres").render_as_string(hide_password=False))
        name = url.rsplit("/", 1)[1]
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

        restored = fugong("restore", str(backup), url=url)
        assert restored.returncode == 0, restored.stderr
        assert tables(url) == rows_before
        after = answers(url)
        assert after == before

        again = fugong("restore", str(backup), url=url)
        assert again.returncode != 0 and "--replace" in again.stderr
        replaced = fugong("restore", "--replace", str(backup), url=url)
        assert replaced.returncode == 0, replaced.stderr
        assert tables(url) == rows_before
