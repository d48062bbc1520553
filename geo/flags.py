"""Flag colours of enterprises and construction sites, as SQL over their resumption status.

Until the flag rules land, the colour is the resumption status itself: FULL green, PARTIAL
yellow, NOT_RESUMED red, and the reason says so.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import ColumnElement, Table, case


class FlagColor(enum.Enum):
    GREEN = "GREEN"  # fully back at work and producing
    YELLOW = "YELLOW"  # partly back, problems still open
    RED = "RED"  # not back yet: a key target for help


def color(table: Table) -> ColumnElement[Any]:
    status = table.c.resumption
    return case((status == "FULL", "GREEN"), (status == "PARTIAL", "YELLOW"), else_="RED")


def reason(table: Table) -> ColumnElement[Any]:
    status = table.c.resumption
    return case(
        (status == "FULL", "fully back at work"),
        (status == "PARTIAL", "partly back at work"),
        else_="not back at work yet",
    )


def since(table: Table) -> ColumnElement[Any]:
    return table.c.resumption_reported_at
