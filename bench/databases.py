"""The benchmark's databases, one per size on the local cluster: created, migrated and seeded
once, then reused while the seed that wrote them is the seed of this tree (a digest of
geo/seed, kept as the database's comment), migrated again: a no-op unless a migration came
since."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
from sqlalchemy import text

import migrations
from api import localdb, roles
from api.settings import get_settings
from geo import seed as seed_package
from geo.db import make_engine
from geo.seed import reset, seed

NO_PARALLEL = "SET max_parallel_workers_per_gather = 0"
# The local cluster (`fugong db start`, FUGONG_LOCAL_DB_PORT) as its superuser.
DEFAULT_SERVER = localdb.url(get_settings(), localdb.SUPERUSER, "")


def url(server: str, size: int) -> str:
    return f"{server.rstrip('/')}/fugong_bench_{size}"


def seed_version() -> str:
    """A digest of everything the seed writes from: its code and its data files."""
    root = Path(seed_package.__file__).parent
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure(server: str, size: int) -> str:
    """The URL of a database seeded with `size` enterprises, seeding it only if needed."""
    database_url = url(server, size)
    name = f"fugong_bench_{size}"
    _create_if_missing(server, name)
    # Set once the seed and the vacuum are done: a half-seeded database never matches.
    seeded_by = f"seeded by fugong's seed {seed_version()} with {size} enterprises"
    reuse = _comment(server, name) == seeded_by
    engine = make_engine(database_url, pool_size=1)
    started = time.monotonic()
    try:
        with engine.begin() as connection:
            migrations.upgrade(connection)
            # What fugong sets for its own sessions (geo.db.SESSION_OPTIONS), here for every
            # server measured on the database, so the raw baseline and PostGraphile get it too.
            connection.execute(text(f"ALTER DATABASE {name} {NO_PARALLEL}"))
            # fugong is measured as it serves: as the serving role, under row-level security.
            connection.execute(text(roles.create_statement(roles.APP)))
            roles.grant(connection, roles.APP)
        if reuse:
            print(f"  reusing {name} ({seeded_by})")
            return database_url
        print(f"  seeding {name}: {seeded_by}")
        with engine.begin() as connection:
            # A half-seeded database (an earlier run killed mid-way) is emptied first.
            if connection.execute(text("SELECT EXISTS (SELECT FROM area)")).scalar_one():
                reset(connection)
            seed(connection, enterprises=size)
        _vacuum(database_url)
        with engine.begin() as connection:
            connection.execute(text(f"COMMENT ON DATABASE {name} IS :c"), {"c": seeded_by})
    finally:
        engine.dispose()
    print(f"  seeded {name} in {time.monotonic() - started:.0f} s")
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


def _create_if_missing(server: str, name: str) -> None:
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres", connect_timeout=10)
    connection.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if not cursor.fetchone():
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def _comment(server: str, name: str) -> str | None:
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres", connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (name,),
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()
