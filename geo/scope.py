"""Who may see what: the caller, and the SQL that keeps every query inside the caller's scope.

layer               anonymous  inspector        town officer   district officer
areas               all        all              all            all
enterprises, sites  all        their zones      their town     all
rentals             none       their zones      their town     all
patrol zones        none       their zones      their town     all
quarantine sites    none       their zones      their town     all
inspections         none       their zones      their town     all
                               and their own

An ENTERPRISE account sees what anonymous callers see; it reports its own enterprise's daily
health and confirms its signboard, and changes nothing else. A briefing's restricted parts
(health, inspections, quarantine) are for the officers of the area (`officer_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from geo import layers
from geo.errors import Forbidden, NotFound, Unauthenticated
from geo.filters import subtree_ids
from geo.layers import Layer
from geo.models import AccountZone, PatrolZone, Role

PUBLIC_LAYERS = (layers.AREAS, layers.ENTERPRISES, layers.CONSTRUCTION_SITES)


@dataclass(frozen=True)
class Caller:
    account_id: int | None = None  # None: anonymous
    username: str = "anonymous"
    role: Role | None = None
    town_id: int | None = None  # a town officer's town
    enterprise_id: int | None = None  # an enterprise account's enterprise

    @property
    def anonymous(self) -> bool:
        return self.role is None


ANONYMOUS = Caller()


def visible(layer: Layer, caller: Caller) -> ColumnElement[bool] | None:
    """The WHERE clause that limits `layer` to what `caller` may see; None when it is all."""
    if layer is layers.AREAS or caller.role is Role.DISTRICT_OFFICER:
        return None
    if caller.role is Role.TOWN_OFFICER:
        return layer.table.c.area_id.in_(subtree_ids(caller.town_id))
    if caller.role is Role.INSPECTOR:
        link = AccountZone.__table__
        zone_ids = select(link.c.zone_id).where(link.c.account_id == caller.account_id)
        if layer is layers.PATROL_ZONES:
            return layer.table.c.id.in_(zone_ids)
        in_zones = func.ST_Intersects(layer.geometry, _union_of_zones(zone_ids))
        if layer is layers.INSPECTIONS:
            # Recorded a few metres off, over a zone's edge, a visit is still its inspector's.
            return in_zones | (layer.table.c.account_id == caller.account_id)
        return in_zones
    return None if layer in PUBLIC_LAYERS else false()


def _union_of_zones(zone_ids: Any) -> Any:
    # One geometry computed once per query, so the layer's GiST index does the matching.
    zone = PatrolZone.__table__
    return select(func.ST_Union(zone.c.boundary)).where(zone.c.id.in_(zone_ids)).scalar_subquery()


def require_change(session: Session, caller: Caller, layer: Layer, row_id: int) -> None:
    """Refuse, in the writing transaction, a change the caller may not make to this row."""
    if caller.role is Role.INSPECTOR:
        raise Forbidden("inspectors record inspections; officers change flags and facts")
    if caller.role is Role.ENTERPRISE:
        raise Forbidden("an enterprise account reports its daily health; officers change flags")
    require_visit(session, caller, layer, row_id)


def require_enterprise_report(
    session: Session, caller: Caller, enterprise_id: int, by_inspectors: bool
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


def require_officer(session: Session, caller: Caller, area_id: int) -> None:
    """Refuse what only the officers of the area may see (a briefing's restricted parts)."""
    if caller.anonymous:
        raise Unauthenticated("log in as an officer of the area")
    if not officer_of(session, caller, area_id):
        raise Forbidden("only the officers of this area (its town's, or the district's) see it")


def officer_of(session: Session, caller: Caller, area_id: int) -> bool:
    """Whether the caller is an officer of this area: a district officer, or an officer of the
    town that holds it."""
    if caller.role is Role.DISTRICT_OFFICER:
        return True
    if caller.role is not Role.TOWN_OFFICER:
        return False
    town = subtree_ids(caller.town_id).subquery()
    return session.execute(select(town.c.id).where(town.c.id == area_id)).first() is not None


def require_visit(session: Session, caller: Caller, layer: Layer, row_id: int) -> None:
    """Refuse a logged-in action on a row outside the caller's scope (or missing)."""
    if caller.anonymous:
        raise Unauthenticated("log in to change anything")
    if caller.role is Role.ENTERPRISE:
        raise Forbidden("an enterprise account reports for its own enterprise only")
    table = layer.table
    exists = session.execute(select(table.c.id).where(table.c.id == row_id)).first()
    if exists is None:
        raise NotFound(f"no {layer.type_name} has the id {row_id}")
    scope = visible(layer, caller)
    if scope is not None:
        inside = session.execute(select(table.c.id).where(table.c.id == row_id, scope)).first()
        if inside is None:
            raise Forbidden(f"{layer.type_name}:{row_id} is outside your town or zones")
