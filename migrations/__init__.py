"""Alembic migrations of fugong's schema; `fugong migrate` runs them."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

HERE = Path(__file__).resolve().parent


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(_config(connection), revision)


def sql_file(name: str) -> str:
    return (HERE / "sql" / name).read_text(encoding="utf-8")


def downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(_config(connection), revision)


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config
