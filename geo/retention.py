"""Bounds on what fugong keeps for speed alone: built tiles (tile_cache) and solved day plans
(route_plan). Either can be rebuilt at any time, so the oldest go first.

- tile_cache: tiles older than `tile_max_age_h`, then the oldest until the rest fit in
  `tile_max_mb` (the tiles' bytes).
- route_plan: a plan is stored only for a day within [today - plan_days_back, today +
  plan_days_ahead]; plans whose day has left that window go, then the least recently solved
  until `plan_max_rows` remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, text

from geo.days import today


@dataclass(frozen=True)
class Retention:
    tile_max_age_h: float = 24.0
    tile_max_mb: float = 256.0
    plan_days_back: int = 7
    plan_days_ahead: int = 7
    plan_max_rows: int = 20_000

    def storable(self, day: date) -> bool:
        """Whether a plan for `day` may be stored; others are solved and answered, not kept."""
        now = today()
        return (
            now - timedelta(days=self.plan_days_back)
            <= day
            <= now + timedelta(days=self.plan_days_ahead)
        )


DEFAULT_RETENTION = Retention()


def prune(connection: Connection, retention: Retention = DEFAULT_RETENTION) -> dict[str, int]:
    """Deletes what lies past the bounds; the rows deleted, per table."""
    tiles = connection.execute(
        _PRUNE_TILES,
        {
            "max_age": timedelta(hours=retention.tile_max_age_h),
            "max_bytes": int(retention.tile_max_mb * 1024 * 1024),
        },
    ).rowcount
    now = today()
    plans = connection.execute(
        _PRUNE_PLANS,
        {
            "first_day": now - timedelta(days=retention.plan_days_back),
            "last_day": now + timedelta(days=retention.plan_days_ahead),
            "max_rows": retention.plan_max_rows,
        },
    ).rowcount
    return {"tile_cache": tiles, "route_plan": plans}


# Deleting tiles takes no part in tile_cache_guard: a tile deleted while another request keeps
# it again is simply built once more.
_PRUNE_TILES = text(
    """
    DELETE FROM tile_cache c USING (
        SELECT ctid, created_at,
               sum(octet_length(mvt)) OVER (ORDER BY created_at DESC, ctid) AS kept_bytes
        FROM tile_cache
    ) AS t
    WHERE c.ctid = t.ctid AND (t.created_at < now() - :max_age OR t.kept_bytes > :max_bytes)
    """
)

_PRUNE_PLANS = text(
    """
    DELETE FROM route_plan p USING (
        SELECT ctid, day BETWEEN :first_day AND :last_day AS inside,
               row_number() OVER (PARTITION BY day BETWEEN :first_day AND :last_day
                                  ORDER BY planned_at DESC, ctid) AS rank
        FROM route_plan
    ) AS t
    WHERE p.ctid = t.ctid AND (NOT t.inside OR t.rank > :max_rows)
    """
)
