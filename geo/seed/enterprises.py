"""Generated enterprises: made-up names, codes, contacts and staff as of 27 February 2020,
with their flags' history over February and the days they updated their signboards."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geo.flag_rules import Facts
from geo.models import EnterpriseCategory, ResumptionStatus
from geo.seed.copytext import (
    NULL,
    Batch,
    batch_of_columns,
    boolean,
    integers,
    points_ewkb,
    text_array,
)
from geo.seed.draws import pick, uniform
from geo.seed.history import LAST_DAY, histories
from geo.seed.layout import Layout
from geo.seed.people import credit_codes, mobile_numbers, person_names
from geo.seed.places import Character
from geo.seed.scatter import Spots, scatter
from geo.targets import TargetKind

CATEGORIES = tuple(EnterpriseCategory)  # INDUSTRIAL, COMMERCE_SERVICES, LOGISTICS, AGRI…, OTHER
INDUSTRIAL, COMMERCE, LOGISTICS, COOPERATIVE, OTHER = range(5)
CATEGORY_SHARES = {
    Character.URBAN: (0.15, 0.62, 0.10, 0.02, 0.11),
    Character.INDUSTRIAL: (0.55, 0.25, 0.10, 0.04, 0.06),
    Character.RURAL: (0.25, 0.30, 0.05, 0.30, 0.10),
}
MEDIAN_STAFF = (60, 8, 20, 6, 10)  # by category
OUT_OF_PROVINCE_SHARE = (0.35, 0.20, 0.30, 0.05, 0.15)  # by category: factories hire migrants
DORMITORY_SHARE = (0.45, 0.05, 0.20, 0.05, 0.05)  # by category
HUBEI_SHARE = 0.03  # of out-of-province staff: from Hubei, kept home on full pay (保岗保薪)

# 27 Feb 2020: half were fully back, a third partly back, the rest not yet (red flags).
RESUMPTIONS = tuple(ResumptionStatus)  # NOT_RESUMED, PARTIAL, FULL
RESUMPTION_SHARES = (0.15, 0.35, 0.50)
RETURNED_SHARE = ((0.0, 0.1), (0.3, 0.8), (0.85, 1.0))  # uniform range, by resumption
CAPACITY_PCT = ((0.0, 0.0), (20.0, 80.0), (80.0, 100.0))  # uniform range, by resumption
PROBLEM_COUNT_SHARES = ((0.40, 0.45, 0.15), (0.15, 0.55, 0.30), (0.93, 0.07, 0.0))
PROBLEMS = ("原材料短缺", "员工未返岗", "防疫物资不足", "物流不畅", "资金周转困难", "订单不足")
FIRST_PROBLEM = "员工未返岗"  # on 3 February, everyone's

FRESH_SIGNBOARD_SHARE = 0.8  # of resumed enterprises: updated daily up to the 26th or 27th
TODAY_SHARE = 0.7  # of fresh signboards: updated on the 27th itself
UNRESUMED_SIGNBOARD_SHARE = 0.15  # not back at work, yet a board put up on one earlier day
STALE_BEFORE = 25  # a stale board was last updated before this day of February
OLD_BOARD_DAYS = (10, 24)  # the day the board of an enterprise not back at work went up

TRADE_CHARS = np.array(
    list("鑫宏源达恒泰盛华兴隆永丰祥瑞金顺发新联航海峰辉佳嘉荣利富安和通宇益创福")
)
COMPANY_REGIONS = np.array(["福建", "福州", "长乐", "福州市长乐区"])
TRADES = (
    ("纺织", "化纤", "针织", "经编", "服装", "电缆", "机械", "塑胶", "五金", "印染", "食品",
     "包装", "钢结构", "建材", "鞋业"),
    ("商贸", "贸易", "餐饮管理", "酒店管理", "超市", "电子商务", "物业管理", "汽车服务", "家具"),
    ("物流", "货运", "供应链管理", "运输", "仓储"),
    ("蔬菜", "果蔬种植", "水产养殖", "家禽养殖", "食用菌", "茶叶", "花卉苗木", "生猪养殖",
     "粮食种植"),
    ("科技", "文化传媒", "教育咨询", "信息技术", "装饰工程", "建筑劳务"),
)  # fmt: skip
SHOP_GOODS = np.array(["百货", "建材", "五金", "水果", "服装", "日用品", "茶叶", "海鲜"])
SOLE_TRADER_SHARE = 0.3  # of commerce and services: 个体工商户, with a 92 credit code
OLD_REGION_SHARE = 0.7  # codes issued while Changle was a county-level city (350182)

COLUMNS = (
    "id", "name", "credit_code", "category", "address", "geom", "staff_total", "staff_returned",
    "staff_out_of_province", "hubei_staff_retained", "capacity_pct", "resumption", "problems",
    "contact_name", "contact_phone", "has_dormitory", "signboard_updated_on", "flag_color",
    "flag_reason", "flag_since", "resumption_reported_at",
)  # fmt: skip
SIGNBOARD_COLUMNS = ("enterprise_id", "days")


def enterprise_facts(
    resumption: Sequence[int],
    staff: Sequence[int],
    returned: Sequence[int],
    capacity: Sequence[float],
    problems: Sequence[tuple[str, ...]],
) -> list[Facts]:
    return [
        Facts(RESUMPTIONS[r], s, k, c, p)
        for r, s, k, c, p in zip(resumption, staff, returned, capacity, problems, strict=True)
    ]  # fmt: skip


def signboard_batch(ids: np.ndarray, first_day: np.ndarray, last_day: np.ndarray) -> Batch:
    """Boards updated every day from first_day to last_day (0: never), as date multiranges."""
    has = last_day > 0
    lines = [
        f"{i}\t{{[2020-02-{a:02d},2020-02-{b:02d}]}}\n"
        for i, a, b in zip(
            ids[has].tolist(), first_day[has].tolist(), last_day[has].tolist(), strict=True
        )
    ]
    return Batch("signboard", SIGNBOARD_COLUMNS, lines)


def enterprise_batch(
    layout: Layout, rng: np.random.Generator, first_id: int, n: int
) -> list[Batch]:
    """The enterprises, then their flags' history and their signboards."""
    weights = np.array([t.town.enterprise_weight for t in layout.towns], dtype=float)
    spots = scatter(rng, layout, weights, n)
    characters = [layout.towns[t].town.character for t in range(len(layout.towns))]
    shares = np.array([CATEGORY_SHARES[c] for c in characters])[spots.town]
    category = pick(rng, shares)
    resumption = pick(rng, np.broadcast_to(RESUMPTION_SHARES, (n, 3)))
    staff = np.clip(
        np.rint(np.array(MEDIAN_STAFF)[category] * rng.lognormal(0.0, 0.9, n)), 1, 5000
    ).astype(np.int64)
    returned = rng.binomial(staff, uniform(rng, np.array(RETURNED_SHARE)[resumption]))
    out_of_province = rng.binomial(staff, np.array(OUT_OF_PROVINCE_SHARE)[category])
    hubei = rng.binomial(out_of_province, HUBEI_SHARE)
    capacity = uniform(rng, np.array(CAPACITY_PCT)[resumption])
    sole_trader = (category == COMMERCE) & (rng.random(n) < SOLE_TRADER_SHARE)
    ids = np.arange(first_id, first_id + n)
    town_names = np.array([t.town.name for t in layout.towns])[spots.town]
    numbers = rng.integers(1, 300, n).astype(str)
    capacity_text = [f"{c:.1f}" for c in capacity.tolist()]  # as stored, and as reasons quote it
    problems = _problems(rng, resumption)
    columns = {
        "id": integers(ids),
        "name": _names(rng, category, sole_trader, spots),
        "credit_code": credit_codes(_code_prefixes(rng, category, sole_trader), ids),
        "category": [CATEGORIES[c].value for c in category.tolist()],
        "address": [
            f"{t}{p}{k}号" for t, p, k in zip(town_names, spots.place, numbers, strict=True)
        ],
        "geom": points_ewkb(spots.x, spots.y),
        "staff_total": integers(staff),
        "staff_returned": integers(returned),
        "staff_out_of_province": integers(out_of_province),
        "hubei_staff_retained": integers(hubei),
        "capacity_pct": capacity_text,
        "resumption": [RESUMPTIONS[r].value for r in resumption.tolist()],
        "problems": [text_array(p) for p in problems],
        "contact_name": person_names(rng, n),
        "contact_phone": mobile_numbers(rng, n),
        "has_dormitory": boolean(rng.random(n) < np.array(DORMITORY_SHARE)[category]),
    }
    finals = enterprise_facts(
        resumption.tolist(), staff.tolist(), returned.tolist(),
        [float(c) for c in capacity_text], problems,
    )  # fmt: skip
    history = histories(rng, TargetKind.ENTERPRISE, ids, finals, FIRST_PROBLEM, PROBLEMS)
    first_day, last_day = _signboards(rng, history.resumed_on)
    columns["signboard_updated_on"] = np.where(
        last_day > 0, np.char.add("2020-02-", np.char.zfill(last_day.astype(str), 2)), NULL
    ).tolist()
    columns |= {
        "flag_color": history.flag_color,
        "flag_reason": history.flag_reason,
        "flag_since": history.flag_since,
        "resumption_reported_at": history.reported_at,
    }
    return [
        batch_of_columns("enterprise", columns),
        history.changes,
        signboard_batch(ids, first_day, last_day),
    ]


def _names(
    rng: np.random.Generator, category: np.ndarray, sole_trader: np.ndarray, spots: Spots
) -> list[str]:
    n = len(category)
    trade_name = np.char.add(rng.choice(TRADE_CHARS, n), rng.choice(TRADE_CHARS, n))
    region = rng.choice(COMPANY_REGIONS, n)
    names = np.empty(n, dtype=object)
    for c, trades in enumerate(TRADES):
        mine = category == c
        trade = rng.choice(np.array(trades), int(mine.sum()))
        if c == COOPERATIVE:
            village = [p.removesuffix("村").removesuffix("社区") for p in spots.place[mine]]
            names[mine] = [f"长乐区{v}{t}专业合作社" for v, t in zip(village, trade, strict=True)]
        else:
            names[mine] = [
                f"{r}{k}{t}有限公司"
                for r, k, t in zip(region[mine], trade_name[mine], trade, strict=True)
            ]
    shops = int(sole_trader.sum())
    goods = rng.choice(SHOP_GOODS, shops)
    names[sole_trader] = [
        f"长乐区{k}{g}商行" for k, g in zip(trade_name[sole_trader], goods, strict=True)
    ]
    return names.tolist()


def _code_prefixes(
    rng: np.random.Generator, category: np.ndarray, sole_trader: np.ndarray
) -> list[str]:
    # 9 is the market regulator; then 1 company, 2 sole trader, 3 farmers' co-operative.
    kind = np.where(category == COOPERATIVE, "93", np.where(sole_trader, "92", "91"))
    region = np.where(rng.random(len(category)) < OLD_REGION_SHARE, "350182", "350112")
    return np.char.add(kind, region).tolist()


def _problems(rng: np.random.Generator, resumption: np.ndarray) -> list[tuple[str, ...]]:
    n = len(resumption)
    count = pick(rng, np.array(PROBLEM_COUNT_SHARES)[resumption])
    first = rng.integers(0, len(PROBLEMS), n)
    second = (first + rng.integers(1, len(PROBLEMS), n)) % len(PROBLEMS)
    chosen = []
    for k, a, b in zip(count.tolist(), first.tolist(), second.tolist(), strict=True):
        chosen.append(tuple(PROBLEMS[i] for i in ([a] if k == 1 else sorted((a, b))[:k])))
    return chosen


def _signboards(rng: np.random.Generator, resumed_on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last day of daily updates (0: no board). An enterprise back at work updates
    its board daily from that day, most up to the 26th or 27th, the rest stopped earlier;
    some of those not back put a board up once."""
    n = len(resumed_on)
    resumed = resumed_on > 0
    fresh = np.where(rng.random(n) < TODAY_SHARE, LAST_DAY, LAST_DAY - 1)
    stopped = resumed_on + np.floor(rng.random(n) * np.maximum(0, STALE_BEFORE - resumed_on))
    is_fresh = rng.random(n) < FRESH_SIGNBOARD_SHARE
    last = np.maximum(resumed_on, np.where(is_fresh, fresh, stopped)).astype(int)
    old_board = ~resumed & (rng.random(n) < UNRESUMED_SIGNBOARD_SHARE)
    old_day = rng.integers(OLD_BOARD_DAYS[0], OLD_BOARD_DAYS[1] + 1, n)
    first = np.where(resumed, resumed_on, np.where(old_board, old_day, 0))
    return first, np.where(resumed, last, first)
