"""Generated rented homes (出租屋): made-up addresses, landlords and tenants, some unfiled."""

from __future__ import annotations

import numpy as np

from geo.seed.copytext import NULL, Batch, batch_of_columns, boolean, integers, points_ewkb
from geo.seed.layout import Layout
from geo.seed.people import mobile_numbers, person_names
from geo.seed.scatter import scatter

UNFILED_SHARE = 0.2  # renting without registration is what the patrols look for
ROOM_SHARE = 0.3  # of addresses: a flat in a block rather than a whole house
DORMITORY_LIKE_SHARE = 0.1  # houses let by the room to a crowd of factory workers
OUT_OF_PROVINCE_SHARE = 0.45
HOME_OBSERVATION_SHARE = 0.25  # of out-of-province tenants: back within 14 days
INSPECTED_SHARE = 0.6
FILING_YEARS = np.array(["2018", "2019", "2020"])
INSPECTION_DAYS = np.array([f"2020-02-{d:02d}" for d in range(20, 28)])

COLUMNS = (
    "id", "address", "geom", "landlord_name", "landlord_phone", "filed", "filing_number",
    "tenants_total", "tenants_out_of_province", "tenants_home_observation", "last_inspected_at",
)  # fmt: skip


def rental_batch(layout: Layout, rng: np.random.Generator, first_id: int, n: int) -> Batch:
    weights = np.array([t.town.rental_weight for t in layout.towns], dtype=float)
    spots = scatter(rng, layout, weights, n)
    ids = np.arange(first_id, first_id + n)
    town_names = np.array([t.town.name for t in layout.towns])[spots.town]
    house = rng.integers(1, 200, n)
    room = np.where(
        rng.random(n) < ROOM_SHARE,
        np.char.add(
            rng.integers(1, 7, n).astype(str), np.char.zfill(rng.integers(1, 5, n).astype(str), 2)
        ),
        "",
    )
    addresses = [
        f"{t}{p}{h}号{r + '室' if r else ''}"
        for t, p, h, r in zip(town_names, spots.place, house.tolist(), room.tolist(), strict=True)
    ]
    crowded = rng.random(n) < DORMITORY_LIKE_SHARE
    tenants = np.where(crowded, rng.integers(10, 41, n), 1 + rng.poisson(1.6, n))
    out_of_province = rng.binomial(tenants, OUT_OF_PROVINCE_SHARE)
    observed = rng.binomial(out_of_province, HOME_OBSERVATION_SHARE)
    filed = rng.random(n) >= UNFILED_SHARE
    # The id in the number keeps filing numbers distinct, as the registry's would be.
    filing = [
        f"长租备〔{y}〕{i:07d}号" if f else NULL
        for y, i, f in zip(
            rng.choice(FILING_YEARS, n).tolist(), ids.tolist(), filed.tolist(), strict=True
        )
    ]
    return batch_of_columns(
        "rental_property",
        {
            "id": integers(ids),
            "address": addresses,
            "geom": points_ewkb(spots.x, spots.y),
            "landlord_name": person_names(rng, n),
            "landlord_phone": mobile_numbers(rng, n),
            "filed": boolean(filed),
            "filing_number": filing,
            "tenants_total": integers(tenants),
            "tenants_out_of_province": integers(out_of_province),
            "tenants_home_observation": integers(observed),
            "last_inspected_at": _inspections(rng, n),
        },
    )


def _inspections(rng: np.random.Generator, n: int) -> list[str]:
    """Daytime patrols over the last week, in China Standard Time; some homes not yet visited."""
    day = rng.choice(INSPECTION_DAYS, n)
    minute = rng.integers(8 * 60, 18 * 60, n)
    stamps = [
        f"{d} {m // 60:02d}:{m % 60:02d}:00+08"
        for d, m in zip(day.tolist(), minute.tolist(), strict=True)
    ]
    return np.where(rng.random(n) < INSPECTED_SHARE, np.array(stamps, dtype=object), NULL).tolist()
