"""Every row of the demo in load order, as COPY batches: a pure function of the enterprise count.

Each chunk draws from its own generator, seeded by table and chunk number, so the rows depend
on nothing but `enterprises`, and a million of them stream through in bounded memory. A chunk
of enterprises or sites is followed by its flags' history (and an enterprise chunk by its
signboards), whose row counts depend on the rules and so are known only once generated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from geo.seed import named
from geo.seed.boundaries import area_batch, zone_batch
from geo.seed.copytext import Batch
from geo.seed.enterprises import enterprise_batch
from geo.seed.layout import Layout, build_layout
from geo.seed.rentals import rental_batch
from geo.seed.sites import site_batch

SEED = 20200227
ENTERPRISE_STREAM, RENTAL_STREAM, SITE_STREAM = 1, 2, 3
CHUNK_ROWS = 50_000
RENTALS_PER_ENTERPRISE = 1.5
SITES_PER_ENTERPRISE = 0.02
MIN_GENERATED_SITES = 8

# Rows of flag history and of signboards per target, roughly: for a progress bar only.
HISTORY_ROWS_PER_TARGET = 2.4
SIGNBOARDS_PER_ENTERPRISE = 0.88

ChunkMaker = Callable[[Layout, np.random.Generator, int, int], list[Batch]]


def generated_counts(enterprises: int) -> dict[str, int]:
    return {
        "enterprise": enterprises,
        "rental_property": round(enterprises * RENTALS_PER_ENTERPRISE),
        "construction_site": max(MIN_GENERATED_SITES, round(enterprises * SITES_PER_ENTERPRISE)),
    }


def row_counts(enterprises: int) -> dict[str, int]:
    """Rows per table that batches(enterprises) yields, without generating them."""
    layout = build_layout()
    generated = generated_counts(enterprises)
    return {
        "area": 1 + len(layout.towns) + sum(len(t.villages) for t in layout.towns),
        "quarantine_site": len(named.QUARANTINE_SITES),
        "patrol_zone": sum(len(t.zones) for t in layout.towns),
        "enterprise": len(named.ENTERPRISES) + generated["enterprise"],
        "rental_property": generated["rental_property"],
        "construction_site": len(named.SITES) + generated["construction_site"],
    }


def estimated_rows(enterprises: int) -> int:
    """Every row that batches(enterprises) yields, history and signboards estimated."""
    counts = row_counts(enterprises)
    targets = counts["enterprise"] + counts["construction_site"]
    derived = targets * HISTORY_ROWS_PER_TARGET + counts["enterprise"] * SIGNBOARDS_PER_ENTERPRISE
    return sum(counts.values()) + round(derived)


def batches(enterprises: int) -> Iterator[Batch]:
    """The rows of every table in an order that satisfies the foreign keys; ids start at 1."""
    layout = build_layout()
    generated = generated_counts(enterprises)
    yield area_batch(layout)
    yield named.quarantine_batch(layout)
    yield zone_batch(layout)
    yield from named.named_enterprise_batch(layout)
    yield from _chunks(
        enterprise_batch,
        layout,
        ENTERPRISE_STREAM,
        len(named.ENTERPRISES) + 1,
        generated["enterprise"],
    )
    yield from _chunks(rentals, layout, RENTAL_STREAM, 1, generated["rental_property"])
    yield from named.named_site_batch(layout)
    hotels = named.hotels()

    def sites(layout: Layout, rng: np.random.Generator, first_id: int, n: int) -> list[Batch]:
        return site_batch(layout, rng, first_id, n, hotels)

    yield from _chunks(
        sites, layout, SITE_STREAM, len(named.SITES) + 1, generated["construction_site"]
    )


def _chunks(
    make: ChunkMaker, layout: Layout, stream: int, first_id: int, n: int
) -> Iterator[Batch]:
    for chunk, start in enumerate(range(0, n, CHUNK_ROWS)):
        rng = np.random.default_rng([SEED, stream, chunk])
        yield from make(layout, rng, first_id + start, min(CHUNK_ROWS, n - start))


def rentals(layout: Layout, rng: np.random.Generator, first_id: int, n: int) -> list[Batch]:
    return [rental_batch(layout, rng, first_id, n)]
