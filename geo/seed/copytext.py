"""Rows as PostgreSQL COPY text: tab-separated columns, \\N for NULL, geometry as hex EWKB.

Hex EWKB carries the exact doubles shapely tested, so a point checked to lie inside a town
is stored inside it, and two towns' shared edges stay identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias

import numpy as np
import shapely

from geo.srid import STORAGE_SRID

NULL = "\\N"
Value: TypeAlias = str | int | float | bool | date | datetime | list[str] | shapely.Geometry | None


@dataclass(frozen=True)
class Batch:
    """Rows for one COPY into table: each line holds the columns in order, tab-separated."""

    table: str
    columns: tuple[str, ...]
    lines: list[str]

    def __len__(self) -> int:
        return len(self.lines)


def ewkb(geometries: Sequence[shapely.Geometry] | np.ndarray) -> list[str]:
    with_srid = shapely.set_srid(np.asarray(geometries, dtype=object), STORAGE_SRID)
    return shapely.to_wkb(with_srid, hex=True, include_srid=True).tolist()


def points_ewkb(x: np.ndarray, y: np.ndarray) -> list[str]:
    return ewkb(shapely.points(x, y))


def text_array(items: Iterable[str]) -> str:
    # Only for our own phrases, which hold no commas, quotes, braces or backslashes.
    return "{" + ",".join(items) + "}"


def boolean(values: np.ndarray) -> list[str]:
    return np.where(values, "t", "f").tolist()


def integers(values: np.ndarray) -> list[str]:
    return values.astype(np.int64).astype(str).tolist()


def copy_value(value: Value) -> str:
    """One value as COPY text; for the few hand-written rows, not for bulk columns."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, shapely.Geometry):
        return ewkb([value])[0]
    if isinstance(value, list):
        return text_array(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def batch_of_rows(
    table: str, columns: tuple[str, ...], rows: Iterable[Mapping[str, Value]]
) -> Batch:
    """A batch from rows keyed by column name; for the few hand-written or per-area rows."""
    return Batch(table, columns, [join(copy_value(row[c]) for c in columns) for row in rows])


def batch_of_columns(table: str, columns: dict[str, list[str]]) -> Batch:
    """A batch from columns already in COPY text, all of the same length."""
    return Batch(table, tuple(columns), [join(row) for row in zip(*columns.values(), strict=True)])


def join(fields: Iterable[str]) -> str:
    return "\t".join(fields) + "\n"
