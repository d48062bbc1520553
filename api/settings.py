"""Settings from the environment, read once."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str | None  # None: fugong runs its own PostGIS under .pgdata/
    host: str
    port: int
    local_db_port: int
    local_db_dir: Path
    max_page_size: int
    max_features: int
    pool_size: int


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


@functools.cache
def get_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=_int("PORT", 8000),
        local_db_port=_int("FUGONG_LOCAL_DB_PORT", 54329),
        local_db_dir=Path(os.environ.get("FUGONG_LOCAL_DB_DIR", PROJECT_DIR / ".pgdata")),
        max_page_size=_int("FUGONG_MAX_PAGE_SIZE", 1000),
        max_features=_int("FUGONG_MAX_FEATURES", 10000),
        pool_size=_int("FUGONG_POOL_SIZE", 8),
    )
