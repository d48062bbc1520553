"""The enterprises, building sites and quarantine sites that the report names, placed by hand.

The names come from the report of 27 February 2020; positions, people and figures are made up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo.flag_rules import Facts
from geo.models import ResumptionStatus
from geo.seed import enterprises, sites
from geo.seed.copytext import Batch, batch_of_rows
from geo.seed.history import histories
from geo.seed.layout import Layout
from geo.seed.people import credit_codes, mobile_numbers, person_names
from geo.seed.scatter import places_at
from geo.targets import TargetKind

CONTACT_SEED = 27
QUARANTINE_COLUMNS = ("id", "name", "kind", "geom", "beds_total", "beds_occupied")


@dataclass(frozen=True)
class NamedQuarantineSite:
    name: str
    kind: str
    town: str
    at: tuple[float, float]
    beds_total: int
    beds_occupied: int


@dataclass(frozen=True)
class NamedEnterprise:
    name: str
    category: str
    town: str
    at: tuple[float, float]
    staff: tuple[int, int, int, int]  # total, returned, out of province, Hubei staff retained
    capacity_pct: float
    resumption: str
    problems: tuple[str, ...] = ()
    has_dormitory: bool = False
    signboard_updated_on: str = "2020-02-27"
    village: str | None = None  # checked, for those the report places in a village


@dataclass(frozen=True)
class NamedSite:
    name: str
    kind: str
    town: str
    centre: tuple[float, float]
    size_m: tuple[float, float]  # length, width
    angle_deg: float  # of the long side, from east
    workers: tuple[int, int, int]  # total, returned, out of province
    resumption: str
    hotel: str | None = None  # where its crews under observation are housed
    problems: tuple[str, ...] = ()


QUARANTINE_SITES = (
    NamedQuarantineSite("金峰旧政府", "旧政府办公楼", "金峰镇", (119.5762, 25.8741), 40, 12),
    NamedQuarantineSite("塔光敬老院", "敬老院", "金峰镇", (119.5981, 25.8642), 30, 8),
    NamedQuarantineSite("金峰旧法庭", "旧法庭", "金峰镇", (119.5813, 25.8768), 20, 5),
    NamedQuarantineSite("金峰旧税务分局", "旧税务分局", "金峰镇", (119.5738, 25.8694), 16, 3),
    NamedQuarantineSite("吴航宾馆", "宾馆", "吴航街道", (119.5221, 25.9633), 60, 21),
    NamedQuarantineSite("航城宾馆", "宾馆", "航城街道", (119.5563, 25.9384), 48, 15),
    NamedQuarantineSite("滨海宾馆", "宾馆", "漳港街道", (119.6362, 25.9147), 36, 6),
)

COOPERATIVE = "AGRICULTURAL_COOPERATIVE"
ENTERPRISES = (
    NamedEnterprise("福建通宇电缆有限公司", "INDUSTRIAL", "古槐镇", (119.5281, 25.9018),
                    (320, 298, 124, 6), 90.0, "FULL", has_dormitory=True),
    NamedEnterprise("长乐恒益纺织有限公司", "INDUSTRIAL", "古槐镇", (119.5122, 25.8893),
                    (180, 121, 70, 4), 60.0, "PARTIAL", ("员工未返岗", "原材料短缺"), True),
    NamedEnterprise("福州鑫宏源物流有限公司", "LOGISTICS", "古槐镇", (119.5309, 25.8861),
                    (45, 30, 12, 2), 55.0, "PARTIAL", ("物流不畅",)),
    NamedEnterprise("福建艾维尔科技有限公司", "INDUSTRIAL", "古槐镇", (119.5148, 25.9052),
                    (90, 70, 25, 0), 70.0, "PARTIAL", ("资金周转困难",), False, "2020-02-18"),
    NamedEnterprise("长乐区屿头蔬菜专业合作社", COOPERATIVE, "古槐镇", (119.4962, 25.8701),
                    (12, 12, 0, 0), 100.0, "FULL", village="屿头村"),
    NamedEnterprise("长乐区屿头果蔬种植专业合作社", COOPERATIVE, "古槐镇", (119.5013, 25.8652),
                    (9, 8, 1, 0), 95.0, "FULL", village="屿头村"),
    NamedEnterprise("长乐区屿头水产养殖专业合作社", COOPERATIVE, "古槐镇", (119.4941, 25.8643),
                    (7, 5, 2, 0), 70.0, "PARTIAL", ("物流不畅",), village="屿头村"),
    NamedEnterprise("长乐区屿头家禽养殖专业合作社", COOPERATIVE, "古槐镇", (119.5027, 25.8719),
                    (6, 6, 0, 0), 100.0, "FULL", village="屿头村"),
    NamedEnterprise("福建恒申合纤科技有限公司", "INDUSTRIAL", "文武砂镇", (119.6152, 25.8461),
                    (2600, 2351, 1102, 38), 90.0, "FULL", has_dormitory=True),
    NamedEnterprise("永荣控股集团有限公司", "INDUSTRIAL", "松下镇", (119.5981, 25.7182),
                    (1800, 1530, 702, 25), 85.0, "FULL", ("资金周转困难",), True),
    NamedEnterprise("福建长乐山力化纤有限公司", "INDUSTRIAL", "金峰镇", (119.5652, 25.8618),
                    (900, 604, 398, 12), 65.0, "PARTIAL", ("资金周转困难", "员工未返岗"), True),
    NamedEnterprise("恒申控股集团有限公司", "INDUSTRIAL", "航城街道", (119.5481, 25.9312),
                    (260, 232, 61, 9), 95.0, "FULL"),
)  # fmt: skip

SITES = (
    NamedSite("车里生活垃圾填埋场提升改造", "环卫设施", "潭头镇", (119.5750, 26.0280),
              (380, 260), 20.0, (85, 70, 30), "PARTIAL", problems=("建材供应不足",)),
    NamedSite("远航新水厂", "供水设施", "航城街道", (119.5620, 25.9270),
              (260, 190), -10.0, (120, 96, 50), "PARTIAL", "航城宾馆"),
    NamedSite("会堂南路", "市政道路", "吴航街道", (119.5310, 25.9510),
              (1400, 36), 95.0, (60, 60, 22), "FULL", "吴航宾馆"),
)  # fmt: skip


def quarantine_batch(layout: Layout) -> Batch:
    rows = []
    for i, q in enumerate(QUARANTINE_SITES, start=1):
        _check_inside(layout, q.name, q.town, q.at)
        rows.append({
            "id": i, "name": q.name, "kind": q.kind, "geom": shapely.Point(q.at),
            "beds_total": q.beds_total, "beds_occupied": q.beds_occupied,
        })  # fmt: skip
    return batch_of_rows("quarantine_site", QUARANTINE_COLUMNS, rows)


def hotels() -> dict[int, tuple[float, float]]:
    """The hotels among the quarantine sites, by the id quarantine_batch gives them."""
    return {i: q.at for i, q in enumerate(QUARANTINE_SITES, start=1) if q.kind == "宾馆"}


def named_enterprise_batch(layout: Layout) -> list[Batch]:
    """The named enterprises, then their flags' history and their signboards."""
    rng = np.random.default_rng(CONTACT_SEED)
    n = len(ENTERPRISES)
    prefixes = ["93350182" if e.category == COOPERATIVE else "91350182" for e in ENTERPRISES]
    codes = credit_codes(prefixes, np.arange(1, n + 1))
    contacts, phones = person_names(rng, n), mobile_numbers(rng, n)
    numbers = rng.integers(1, 300, n).tolist()
    ids = np.arange(1, n + 1)
    finals = [
        Facts(ResumptionStatus(e.resumption), e.staff[0], e.staff[1], e.capacity_pct, e.problems)
        for e in ENTERPRISES
    ]
    # Each was back at work by the last day it updated its board.
    board_day = np.array([int(e.signboard_updated_on[-2:]) for e in ENTERPRISES])
    history = histories(
        rng, TargetKind.ENTERPRISE, ids, finals, enterprises.FIRST_PROBLEM, enterprises.PROBLEMS,
        board_day,
    )  # fmt: skip
    first_board_day = np.where(history.resumed_on > 0, history.resumed_on, board_day)
    rows = []
    for i, e in enumerate(ENTERPRISES):
        _check_inside(layout, e.name, e.town, e.at)
        if e.village is not None and not layout.village(e.village).contains(shapely.Point(e.at)):
            raise AssertionError(f"{e.name} is meant to lie in {e.village}")
        town_index = [t.town.name for t in layout.towns].index(e.town)
        place = places_at(layout.towns[town_index], town_index, np.array([e.at]))[0]
        total, returned, out_of_province, hubei = e.staff
        rows.append({
            "id": i + 1, "name": e.name, "credit_code": codes[i], "category": e.category,
            "address": f"{e.town}{place}{numbers[i]}号", "geom": shapely.Point(e.at),
            "staff_total": total, "staff_returned": returned,
            "staff_out_of_province": out_of_province, "hubei_staff_retained": hubei,
            "capacity_pct": f"{e.capacity_pct:.1f}", "resumption": e.resumption,
            "problems": list(e.problems), "contact_name": contacts[i], "contact_phone": phones[i],
            "has_dormitory": e.has_dormitory, "signboard_updated_on": e.signboard_updated_on,
            "flag_color": history.flag_color[i], "flag_reason": history.flag_reason[i],
            "flag_since": history.flag_since[i], "resumption_reported_at": history.reported_at[i],
        })  # fmt: skip
    return [
        batch_of_rows("enterprise", enterprises.COLUMNS, rows),
        history.changes,
        enterprises.signboard_batch(ids, first_board_day, board_day),
    ]


def named_site_batch(layout: Layout) -> list[Batch]:
    """The named building sites, then their flags' history."""
    hotel_ids = {q.name: i for i, q in enumerate(QUARANTINE_SITES, start=1)}
    finals = [
        sites.site_facts(s.workers[0], s.workers[1], ResumptionStatus(s.resumption), s.problems)
        for s in SITES
    ]
    rng = np.random.default_rng(CONTACT_SEED + 1)
    ids = np.arange(1, len(SITES) + 1)
    history = histories(
        rng, TargetKind.CONSTRUCTION_SITE, ids, finals, sites.FIRST_PROBLEM, sites.PROBLEMS
    )
    rows = []
    for i, s in enumerate(SITES, start=1):
        (x, y), (length_m, width_m) = s.centre, s.size_m
        shape = sites.footprints(
            np.array([x]), np.array([y]), np.array([length_m]), np.array([width_m]),
            np.radians([s.angle_deg]),
        )  # fmt: skip
        footprint = shape.polygons[0]
        if not layout.town(s.town).boundary.contains(footprint):
            raise AssertionError(f"{s.name} is meant to lie wholly in {s.town}")
        total, returned, out_of_province = s.workers
        rows.append({
            "id": i, "name": s.name, "kind": s.kind, "key_project": True, "footprint": footprint,
            "entrance": shapely.Point(shape.entrance_x[0], shape.entrance_y[0]),
            "workers_total": total, "workers_returned": returned,
            "workers_out_of_province": out_of_province, "resumption": s.resumption,
            "quarantine_site_id": None if s.hotel is None else hotel_ids[s.hotel],
            "problems": list(s.problems),
            **{column: values[i - 1] for column, values in sites.flag_columns(history).items()},
        })  # fmt: skip
    return [batch_of_rows("construction_site", sites.COLUMNS, rows), history.changes]


def _check_inside(layout: Layout, name: str, town: str, at: tuple[float, float]) -> None:
    if not layout.town(town).boundary.contains(shapely.Point(at)):
        raise AssertionError(f"{name} is meant to lie in {town}")
