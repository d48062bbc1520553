"""Who may see what: the caller, and the SQL that keeps every query inside the caller's scope.

A scope narrows what is private and what may be changed; it never hides what is public. What
each role reads of each layer (READS, the same table as data):

layer               anonymous  enterprise  inspector     town officer   district officer
areas               all        all         all           all            all
enterprises, sites  all        all         all           all            all
rentals             none       none        their zones   their town     all
patrol zones        none       none        their zones   their town     all
quarantine sites    none       none        their zones   their town     all
inspections         none       none        their zones   their town     all
                                           and their own

Their own rows (their town, their zones; a district officer's are all) are where their role
counts: there they may change things (require_change) and see personal data as geo.privacy
says; elsewhere they see a row as anyone does. Each row read for a caller says which (`own`).

An ENTERPRISE account reads what anonymous callers read and owns no rows; it reports its own
enterprise's daily health and confirms its signboard (require_enterprise_report), and changes
nothing else. A briefing's restricted parts (health, inspections, quarantine) are for the
officers of the area (`officer_of`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true

from geo import layers
from geo.db import Executor
from geo.errors import Forbidden, NotFound, Unauthenticated
from geo.filters import subtree_ids
from geo.layers import Layer
from geo.models import AccountZone, PatrolZone, Role, table_of
from geo.targets import Target


@dataclass(frozen=True)
class Caller:
    account_id: int | None = None  # None: anonymous
    username: str = "anonymous"
    role: Role | None = None
    town_id: int | None = None  # a town officer's town
    expires_at: datetime | None = None  # when the token that named them expires
    enterprise_id: int | None = None  # an enterprise account's enterprise

    @property
    def anonymous(self) -> bool:
        return self.role is None


ANONYMOUS = Caller()


class Reach(enum.Enum):
    ALL = "all"
    OWN = "own"  # their town, or their zones
    NONE = "none"


_A, _O, _N = Reach.ALL, Reach.OWN, Reach.NONE
ROLES: tuple[Role | None, ...] = (
    None, Role.ENTERPRISE, Role.INSPECTOR, Role.TOWN_OFFICER, Role.DISTRICT_OFFICER
)  # fmt: skip
READS: dict[str, tuple[Reach, ...]] = {  # by GraphQL type name
    #                          anonymous enterprise inspector town district
    layers.AREAS.type_name:              (_A, _A, _A, _A, _A),
    layers.ENTERPRISES.type_name:        (_A, _A, _A, _A, _A),
    layers.CONSTRUCTION_SITES.type_name: (_A, _A, _A, _A, _A),
    layers.RENTAL_PROPERTIES.type_name:  (_N, _N, _O, _O, _A),
    layers.PATROL_ZONES.type_name:       (_N, _N, _O, _O, _A),
    layers.QUARANTINE_SITES.type_name:   (_N, _N, _O, _O, _A),
    layers.INSPECTIONS.type_name:        (_N, _N, _O, _O, _A),
}  # fmt: skip


def reach(layer: Layer, caller: Caller) -> Reach:
    return READS[layer.type_name][ROLES.index(caller.role)]


def visible(layer: Layer, caller: Caller) -> ColumnElement[bool] | None:
    """The WHERE clause that limits `layer` to what `caller` may see; None when it is all."""
    way = reach(layer, caller)
    if way is Reach.ALL:
        return None
    return false() if way is Reach.NONE else own(layer, caller)


def statement_key(caller: Caller) -> tuple[Any, ...]:
    """What of the caller a statement's SQL depends on (geo.prepared): what they may see."""
    return (caller.role, caller.account_id, caller.town_id, caller.enterprise_id)


def ownership(layer: Layer, caller: Caller) -> ColumnElement[bool]:
    """Whether a row that `caller` sees is one of their own, as a column of the row."""
    if caller.anonymous:
        return false()
    clause = own(layer, caller)
    # Rows seen only where they are one's own need no test.
    return true() if clause is None or reach(layer, caller) is Reach.OWN else clause


def own(layer: Layer, caller: Caller) -> ColumnElement[bool] | None:
    """The WHERE clause of the rows that are the caller's own: their town, their zones; None
    when every row is (a district officer), nothing when they are anonymous."""
    if caller.role is Role.DISTRICT_OFFICER:
        return None
    if caller.role is Role.TOWN_OFFICER:
        return layer.area_column.in_(subtree_ids(caller.town_id))
    if caller.role is Role.INSPECTOR:
        link = table_of(AccountZone)
        zone_ids = select(link.c.zone_id).where(link.c.account_id == caller.account_id)
        if layer is layers.PATROL_ZONES:
            return layer.table.c.id.in_(zone_ids)
        in_zones = func.ST_Intersects(layer.geometry, _union_of_zones(zone_ids))
        if layer is layers.INSPECTIONS:
            # Recorded a few metres off, over a zone's edge, a visit is still its inspector's.
            return in_zones | (layer.table.c.account_id == caller.account_id)
        return in_zones
    return false()


def _union_of_zones(zone_ids: Any) -> Any:
    # One geometry computed once per query, so the layer's GiST index does the matching.
    zone = table_of(PatrolZone)
    return select(func.ST_Union(zone.c.boundary)).where(zone.c.id.in_(zone_ids)).scalar_subquery()


def require_change(session: Executor, caller: Caller, layer: Layer, row_id: int) -> None:
    """Refuse, in the writing transaction, a change the caller may not make to this row."""
    if caller.role is Role.INSPECTOR:
        raise Forbidden("inspectors record inspections; officers change flags and facts")
    if caller.role is Role.ENTERPRISE:
        raise Forbidden("an enterprise account reports its daily health; officers change flags")
    require_visit(session, caller, layer, row_id)


def require_target_change(session: Executor, caller: Caller, target: Target) -> None:
    """`require_change` for an enterprise, site or rental named by its Target."""
    require_change(session, caller, layers.BY_TYPE_NAME[target.kind.value], target.id)


def require_enterprise_report(
    session: Executor, caller: Caller, enterprise_id: int, by_inspectors: bool
) -> None:
    """Refuse a daily report on an enterprise (its health, its signboard) that the caller may
    not make: an enterprise account reports for its own enterprise only; officers for the
    enterprises of their scope, and inspectors too when `by_inspectors`."""
    if caller.role is Role.ENTERPRISE:
        if caller.enterprise_id != enterprise_id:
            raise Forbidden(f"this account reports for Enterprise:{caller.enterprise_id} only")
        return
    if by_inspectors:
        require_visit(session, caller, layers.ENTERPRISES, enterprise_id)
    else:
        require_change(session, caller, layers.ENTERPRISES, enterprise_id)


def require_officer(session: Executor, caller: Caller, area_id: int) -> None:
    """Refuse what only the officers of the area may see (a briefing's restricted parts)."""
    if caller.anonymous:
        raise Unauthenticated("log in as an officer of the area")
    if not officer_of(session, caller, area_id):
        raise Forbidden("only the officers of this area (its town's, or the district's) see it")


def officer_of(session: Executor, caller: Caller, area_id: int) -> bool:
    """Whether the caller is an officer of this area: a district officer, or an officer of the
    town that holds it."""
    if caller.role is Role.DISTRICT_OFFICER:
        return True
    if caller.role is not Role.TOWN_OFFICER:
        return False
    town = subtree_ids(caller.town_id).subquery()
    return session.execute(select(town.c.id).where(town.c.id == area_id)).first() is not None


def require_visit(session: Executor, caller: Caller, layer: Layer, row_id: int) -> None:
    """Refuse a logged-in action on a row outside the caller's scope (or missing)."""
    if caller.anonymous:
        raise Unauthenticated("log in to change anything")
    if caller.role is Role.ENTERPRISE:
        raise Forbidden("an enterprise account reports for its own enterprise only")
    table = layer.table
    exists = session.execute(select(table.c.id).where(table.c.id == row_id)).first()
    if exists is None:
        raise NotFound(f"no {layer.type_name} has the id {row_id}")
    mine = own(layer, caller)
    if mine is not None:
        inside = session.execute(select(table.c.id).where(table.c.id == row_id, mine)).first()
        if inside is None:
            raise Forbidden(f"{layer.type_name}:{row_id} is outside your town or zones")


def sees_layer(layer: Layer, caller: Caller) -> bool:
    """Whether any row of `layer` may be shown to `caller` (an OGC API collection is listed)."""
    return reach(layer, caller) is not Reach.NONE
