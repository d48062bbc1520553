"""`fugong backup FILE` and `fugong restore FILE`: the whole database (PostGIS and pgRouting
data, histories and the audit log included) in pg_dump's custom format, and back."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import make_url, text

from api.localdb import LocalDatabaseError, bindir
from geo.db import libpq_url, make_engine, sqlalchemy_url


def backup(url: str, file: Path) -> None:
    _run(["pg_dump", "--format=custom", "--file", str(file), "--dbname", libpq_url(url)])


def restore(url: str, file: Path, replace: bool = False) -> None:
    """Into the database of `url`: created if missing; one that holds tables is refused
    unless `replace`, which drops and creates it first. All or nothing (one transaction)."""
    if not file.is_file():
        raise LocalDatabaseError(f"no such file: {file}")
    target = make_url(sqlalchemy_url(url))
    name = target.database
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists and not replace and _holds_tables(url):
                raise LocalDatabaseError(
                    f"database {name!r} holds tables: pass --replace to drop it and restore"
                )
            if exists and replace:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            if not exists or replace:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            libpq_url(url),
            str(file),
        ]
    )


def _holds_tables(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT EXISTS (SELECT FROM pg_tables WHERE schemaname NOT IN"
                        " ('pg_catalog', 'information_schema'))"
                    )
                ).scalar()
            )
    finally:
        engine.dispose()


def _run(args: list[str]) -> None:
    result = subprocess.run([str(bindir() / args[0]), *args[1:]], capture_output=True, text=True)
    if result.returncode != 0:
        raise LocalDatabaseError(f"{args[0]} failed:\n{result.stderr.strip()}")
