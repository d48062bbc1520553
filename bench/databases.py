"""The benchmark's databases, one per size on the local cluster: created, migrated and seeded
once, then reused while they still hold the size asked for (migrated again: a no-op unless
a migration came since)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg2
from sqlalchemy import text

import migrations
from api import roles
from geo.db import make_engine
from geo.seed import demo, reset, seed

NO_PARALLEL = "SET max_parallel_workers_per_gather = 0"
DEFAULT_SERVER = "postgresql://fugong@127.0.0.1:54329"


def url(server: str, size: int) -> str:
    return f"{server.rstrip('/')}/fugong_bench_{size}"


def ensure(server: str, size: int) -> str:
    """The URL of a database seeded with `size` enterprises, seeding it only if needed."""
    database_url = url(server, size)
    created = _create_if_missing(server, f"fugong_bench_{size}")
    # The demo adds its named enterprises to the generated ones: compare with what it writes.
    reuse = not created and _enterprise_count(database_url) == demo.row_counts(size)["enterprise"]
    engine = make_engine(database_url, pool_size=1)
    started = time.monotonic()
    try:
        with engine.begin() as connection:
            migrations.upgrade(connection)
            # What fugong sets for its own sessions (geo.db.SESSION_OPTIONS), here for every
            # server measured on the database, so the raw baseline and PostGraphile get it too.
            connection.execute(text(f"ALTER DATABASE fugong_bench_{size} {NO_PARALLEL}"))
            # fugong is measured as it serves: as the serving role, under row-level security.
            connection.execute(text(roles.create_statement(roles.APP)))
            roles.grant(connection, roles.APP)
        if reuse:
            print(f"  reusing fugong_bench_{size}")
            return database_url
        with engine.begin() as connection:
            # A half-seeded database (an earlier run killed mid-way) is emptied first.
            if connection.execute(text("SELECT EXISTS (SELECT FROM area)")).scalar_one():
                reset(connection)
            seed(connection, enterprises=size)
        _vacuum(database_url)
    finally:
        engine.dispose()
    print(f"  seeded fugong_bench_{size} in {time.monotonic() - started:.0f} s")
    return database_url


@contextlib.contextmanager
def scratch(server: str, name: str) -> Iterator[str]:
    """A fresh, migrated database for one benchmark run, dropped afterwards; its URL."""
    _drop(server, name)
    _create_if_missing(server, name)
    database_url = f"{server.rstrip('/')}/{name}"
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            migrations.upgrade(connection)
    finally:
        engine.dispose()
    try:
        yield database_url
    finally:
        _drop(server, name)


def _drop(server: str, name: str) -> None:
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres", connect_timeout=10)
    connection.autocommit = True  # DROP DATABASE refuses to run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def _vacuum(database_url: str) -> None:
    """Vacuumed once after the seed: the visibility map lets index-only scans skip the heap,
    and autovacuum does not start on the new tables in the middle of a measurement."""
    connection = psycopg2.connect(database_url, connect_timeout=10)
    connection.autocommit = True  # VACUUM refuses to run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    finally:
        connection.close()


def _create_if_missing(server: str, name: str) -> bool:
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres", connect_timeout=10)
    connection.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                return False
            cursor.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        connection.close()


def _enterprise_count(database_url: str) -> int | None:
    connection = psycopg2.connect(database_url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('enterprise') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return None
            cursor.execute("SELECT count(*) FROM enterprise")
            return int(cursor.fetchone()[0])
    finally:
        connection.close()
