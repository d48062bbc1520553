"""Engines and sessions: the one seam between fugong and its PostgreSQL server."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def sqlalchemy_url(url: str) -> str:
    """DATABASE_URL as libpq knows it (postgresql://…) → the psycopg2 driver's URL."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


# Asia/Shanghai: the district's day. No parallel workers: an API statement reads a page or a
# viewport in a millisecond or two, and starting a worker costs ~10 ms (at 1M rows the planner
# starts one for a 100-enterprise page, which then takes 20 ms instead of 3.6).
SESSION_OPTIONS = "-c timezone=Asia/Shanghai -c max_parallel_workers_per_gather=0"


def make_engine(url: str, pool_size: int = 8) -> Engine:
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"application_name": "fugong", "options": SESSION_OPTIONS},
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def libpq_url(url: str) -> str:
    """The URL as libpq itself takes it, for connections made without SQLAlchemy."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url
