"""Settings from the environment, read once."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from api import signing_key
from geo.crs import Crs
from geo.db import Timeouts
from geo.flag_rules import Thresholds
from geo.inspections import Fence
from geo.retention import Retention
from geo.throttle import LoginLimits
from schema.framework import normalize_allowed_origins

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str | None  # None: fugong runs its own PostGIS under .pgdata/
    database_owner_url: str | None  # the schema's owner, for migrate/seed/user; None: the same
    database_read_url: str | None  # streaming replicas for reads; None: the primary
    host: str
    port: int
    local_db_port: int
    local_db_dir: Path
    max_page_size: int
    max_features: int
    pool_size: int
    access_log: bool  # a line per request; off where a load balancer logs them already
    flag_thresholds: Thresholds
    fence: Fence
    environment: str  # "development", or anything else for a real deployment
    jwt_secret: str
    token_minutes: int  # a token's lifetime, and the longest one accepted
    # Query limits and request caps (api/request_caps.py, schema/query_limits.py)
    max_query_depth: int
    max_aliases: int
    max_tokens: int
    max_query_cost: int
    cost_list_size: int  # the assumed length of a list without `first`, in the cost estimate
    max_string_chars: int
    max_body_bytes: int
    max_query_string_bytes: int
    introspection: bool  # introspection and GraphiQL, both only when asked for
    login_limits: LoginLimits
    # Operations (README "Operations")
    timeouts: Timeouts  # statement, lock and idle-in-transaction limits of serving connections
    retention: Retention  # bounds of tile_cache and route_plan
    retention_interval_s: int  # how often a worker prunes them (one at a time across hosts)
    retry_after_s: int  # Retry-After of a 503 while the database is unreachable
    ready_timeout_ms: int  # /ready's database round trip
    slow_ms: int  # a request slower than this is logged with its name and duration
    shutdown_s: int  # on SIGTERM, how long in-flight requests and subscriptions may finish
    log_format: str  # "json" (one object per line) or "text"
    # The web: where clients reach fugong, who may call it from a page, and the map's base map
    public_url: str  # absolute URLs (TileJSON, QR codes) start with it, never with the Host header
    cors_origins: frozenset[str]  # pages on these origins may call every door; "*": any
    allowed_hosts: frozenset[str]  # Host headers answered; "*": any
    basemap_url: str | None  # an XYZ raster template under the map page, or none
    basemap_crs: Crs  # what the base map is drawn in: WGS84, or GCJ02 (AMap, Tencent)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"{name} must be 1 or 0, not {raw!r}")


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name, "").strip().lower() or default
    if raw not in choices:
        raise SystemExit(f"{name} is one of {', '.join(choices)}, not {raw!r}")
    return raw


def _words(name: str, default: str) -> list[str]:
    """A list in one variable, separated by commas or spaces."""
    return os.environ.get(name, default).replace(",", " ").split()


def _public_url(host: str, port: int) -> str:
    raw = os.environ.get("FUGONG_PUBLIC_URL") or f"http://{host}:{port}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise SystemExit(f"FUGONG_PUBLIC_URL must be like https://gis.example.org, not {raw!r}")
    return raw.rstrip("/")


def _origins() -> frozenset[str]:
    # No cookies travel (tokens are sent in Authorization), so "*" exposes nothing ambient.
    default = "*" if os.environ.get("FUGONG_ENV", "development") == "development" else ""
    try:
        return normalize_allowed_origins(_words("FUGONG_CORS_ORIGINS", default))
    except (TypeError, ValueError) as error:
        raise SystemExit(f"FUGONG_CORS_ORIGINS: {error}") from None


def _hosts(public_url: str) -> frozenset[str]:
    public = urlsplit(public_url).hostname or ""
    default = "*" if os.environ.get("FUGONG_ENV", "development") == "development" else public
    return frozenset(host.lower() for host in _words("FUGONG_ALLOWED_HOSTS", default))


def _basemap_crs() -> Crs:
    raw = os.environ.get("FUGONG_BASEMAP_CRS") or "WGS84"
    if raw not in (Crs.WGS84.value, Crs.GCJ02.value):
        raise SystemExit(f"FUGONG_BASEMAP_CRS is WGS84 or GCJ02, not {raw!r}")
    return Crs(raw)


def _percent(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        value = default if raw is None or raw == "" else float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from None
    if not 0 <= value <= 100:
        raise SystemExit(f"{name} must be between 0 and 100, not {value}")
    return value


def _jwt_secret() -> str:
    if value := os.environ.get("FUGONG_JWT_SECRET"):
        return signing_key.configured(value)
    environment = os.environ.get("FUGONG_ENV", "development")
    if environment != "development":
        raise SystemExit(
            f"FUGONG_ENV is {environment!r} but FUGONG_JWT_SECRET is not set: give every host"
            " the same key of 32 bytes or more (python -c 'import secrets;"
            " print(secrets.token_urlsafe(48))')"
        )
    return signing_key.generated(state_dir())


def state_dir() -> Path:
    """Where fugong keeps what must survive restarts but never enter git (ignored by git)."""
    return Path(os.environ.get("FUGONG_STATE_DIR") or PROJECT_DIR / ".fugong")


@functools.cache
def get_settings() -> Settings:
    host, port = os.environ.get("HOST", "127.0.0.1"), _int("PORT", 8000)
    public_url = _public_url(host, port)
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        database_owner_url=os.environ.get("DATABASE_OWNER_URL") or None,
        database_read_url=os.environ.get("DATABASE_READ_URL") or None,
        host=host,
        port=port,
        local_db_port=_int("FUGONG_LOCAL_DB_PORT", 54329),
        local_db_dir=Path(os.environ.get("FUGONG_LOCAL_DB_DIR", PROJECT_DIR / ".pgdata")),
        max_page_size=_int("FUGONG_MAX_PAGE_SIZE", 1000),
        max_features=_int("FUGONG_MAX_FEATURES", 10000),
        pool_size=_int("FUGONG_POOL_SIZE", 8),
        access_log=_bool("FUGONG_ACCESS_LOG", True),
        flag_thresholds=Thresholds(
            staff_returned_pct=_percent("FUGONG_FLAG_STAFF_RETURNED_PCT", 80.0),
            capacity_pct=_percent("FUGONG_FLAG_CAPACITY_PCT", 70.0),
        ),
        fence=Fence(
            geofence_m=float(_int("FUGONG_GEOFENCE_M", 100)),
            max_gps_accuracy_m=float(_int("FUGONG_MAX_GPS_ACCURACY_M", 50)),
            max_clock_skew=timedelta(minutes=_int("FUGONG_MAX_CLOCK_SKEW_MINUTES", 5)),
        ),
        environment=os.environ.get("FUGONG_ENV", "development"),
        jwt_secret=_jwt_secret(),
        token_minutes=_int("FUGONG_TOKEN_MINUTES", 12 * 60),
        max_query_depth=_int("FUGONG_MAX_QUERY_DEPTH", 10),
        max_aliases=_int("FUGONG_MAX_ALIASES", 30),
        max_tokens=_int("FUGONG_MAX_TOKENS", 10_000),
        max_query_cost=_int("FUGONG_MAX_QUERY_COST", 50_000),
        cost_list_size=_int("FUGONG_COST_LIST_SIZE", 100),
        max_string_chars=_int("FUGONG_MAX_STRING_CHARS", 2_000),
        # A 10,000-vertex polygon, the most geo/geometry.py takes, is about 400 KB of JSON.
        max_body_bytes=_int("FUGONG_MAX_BODY_BYTES", 1024 * 1024),
        max_query_string_bytes=_int("FUGONG_MAX_QUERY_STRING_BYTES", 8 * 1024),
        introspection=_bool("FUGONG_INTROSPECTION", False),
        login_limits=LoginLimits(
            account_failures=_int("FUGONG_LOGIN_ACCOUNT_FAILURES", 5),
            address_failures=_int("FUGONG_LOGIN_ADDRESS_FAILURES", 20),
            hashing=max(1, _int("FUGONG_HASHING_CONCURRENCY", 1)),
        ),
        timeouts=Timeouts(
            statement_ms=_int("FUGONG_STATEMENT_TIMEOUT_MS", 10_000),
            lock_ms=_int("FUGONG_LOCK_TIMEOUT_MS", 2_000),
            idle_in_transaction_ms=_int("FUGONG_IDLE_IN_TRANSACTION_TIMEOUT_MS", 30_000),
            connect_s=_int("FUGONG_DB_CONNECT_TIMEOUT_S", 3),
        ),
        retention=Retention(
            tile_max_age_h=float(_int("FUGONG_TILE_CACHE_MAX_AGE_H", 24)),
            tile_max_mb=float(_int("FUGONG_TILE_CACHE_MAX_MB", 256)),
            plan_days_back=_int("FUGONG_PLAN_DAYS_BACK", 7),
            plan_days_ahead=_int("FUGONG_PLAN_DAYS_AHEAD", 7),
            plan_max_rows=_int("FUGONG_ROUTE_PLAN_MAX_ROWS", 20_000),
        ),
        retention_interval_s=_int("FUGONG_RETENTION_INTERVAL_S", 300),
        retry_after_s=_int("FUGONG_RETRY_AFTER_S", 2),
        ready_timeout_ms=_int("FUGONG_READY_TIMEOUT_MS", 1_000),
        slow_ms=_int("FUGONG_SLOW_MS", 1_000),
        shutdown_s=_int("FUGONG_SHUTDOWN_S", 10),
        log_format=_choice("FUGONG_LOG_FORMAT", ("json", "text"), "json"),
        public_url=public_url,
        cors_origins=_origins(),
        allowed_hosts=_hosts(public_url),
        basemap_url=os.environ.get("FUGONG_BASEMAP_URL") or None,
        basemap_crs=_basemap_crs(),
    )
