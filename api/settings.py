"""Settings from the environment, read once."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from geo.crs import Crs
from geo.flag_rules import Thresholds
from geo.inspections import Fence
from schema.framework import normalize_allowed_origins

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET = "fugong-development-secret-not-for-production"


@dataclass(frozen=True)
class Settings:
    database_url: str | None  # None: fugong runs its own PostGIS under .pgdata/
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
    token_minutes: int
    # Query limits and request caps (api/request_caps.py, schema/query_limits.py)
    max_query_depth: int
    max_aliases: int
    max_tokens: int
    max_query_cost: int
    cost_list_size: int  # the assumed length of a list without `first`, in the cost estimate
    max_string_chars: int
    max_body_bytes: int
    max_query_string_bytes: int
    introspection: bool
    # The web: where clients reach fugong, who may call it from a page, and the map's base map
    public_url: str  # absolute URLs (TileJSON) start with it, never with the Host header
    cors_origins: frozenset[str]  # pages on these origins may call every door; "*": any
    allowed_hosts: frozenset[str]  # Host headers answered; "*": any
    basemap_url: str | None  # an XYZ raster template under the map page, or none
    basemap_crs: Crs  # what the base map is drawn in: WGS84, or GCJ02 (AMap, Tencent)

    def check(self) -> None:
        """Refuse to start a deployment that would sign tokens with the published secret."""
        if self.environment != "development" and self.jwt_secret == DEVELOPMENT_SECRET:
            raise SystemExit(
                f"FUGONG_ENV is {self.environment!r} but FUGONG_JWT_SECRET is not set:"
                " set it to a long random string (python -c 'import secrets;"
                " print(secrets.token_urlsafe(48))')"
            )


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


@functools.cache
def get_settings() -> Settings:
    host, port = os.environ.get("HOST", "127.0.0.1"), _int("PORT", 8000)
    public_url = _public_url(host, port)
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
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
        jwt_secret=os.environ.get("FUGONG_JWT_SECRET") or DEVELOPMENT_SECRET,
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
        introspection=_bool(
            "FUGONG_INTROSPECTION", os.environ.get("FUGONG_ENV", "development") == "development"
        ),
        public_url=public_url,
        cors_origins=_origins(),
        allowed_hosts=_hosts(public_url),
        basemap_url=os.environ.get("FUGONG_BASEMAP_URL") or None,
        basemap_crs=_basemap_crs(),
    )
