"""Engines and sessions: the one seam between fugong and its PostgreSQL server."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def sqlalchemy_url(url: str) -> str:
    """DATABASE_URL as libpq knows it (postgresql://…) → the psycopg2 driver's URL."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def make_engine(url: str, pool_size: int = 8) -> Engine:
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"application_name": "fugong", "options": "-c timezone=Asia/Shanghai"},
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def libpq_url(url: str) -> str:
    """The URL as libpq itself takes it, for connections made without SQLAlchemy."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url
