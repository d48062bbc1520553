"""The demo's accounts, one of each kind, all with the password `demo` (the demo only)."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from geo import accounts
from geo.models import Area, Enterprise, PatrolZone, Role, table_of

PASSWORD = "demo"
JINFENG = "350112109"
DEMO_ENTERPRISE = "福建通宇电缆有限公司"  # of 古槐镇, named in the report


def add_demo_accounts(connection: Connection) -> dict[str, int]:
    zone, area, enterprise = table_of(PatrolZone), table_of(Area), table_of(Enterprise)
    with Session(bind=connection) as session:
        first_jinfeng_zone = session.execute(
            select(zone.c.id)
            .join(area, area.c.id == zone.c.area_id)
            .where(area.c.code.startswith(JINFENG))
            .order_by(zone.c.id)
            .limit(1)
        ).scalar_one()
        accounts.create(session, "district", PASSWORD, Role.DISTRICT_OFFICER)
        accounts.create(session, "town", PASSWORD, Role.TOWN_OFFICER, town_code=JINFENG)
        accounts.create(
            session, "inspector", PASSWORD, Role.INSPECTOR, zone_ids=[first_jinfeng_zone]
        )
        # The report's own, placed by hand with the first ids (geo/seed/named.py), not a
        # generated namesake: at 100,000 enterprises the made-up names repeat it.
        own = session.execute(
            select(enterprise.c.id)
            .where(enterprise.c.name == DEMO_ENTERPRISE)
            .order_by(enterprise.c.id)
            .limit(1)
        ).scalar_one()
        accounts.create(session, "enterprise", PASSWORD, Role.ENTERPRISE, enterprise_id=own)
        session.flush()
    return {"account": 4}
