"""Where one scenario's time goes in fugong: requests run in-process through the ASGI app under
cProfile, split into the event loop's own Python work and its waiting (for the database and
for the worker threads, where SQLAlchemy builds and runs statements: cProfile sees one thread),
with the functions that cost most.

`python -m bench.profile --size 100000 --scenario b_enterprises_1000 [--requests 20]`"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time

import httpx2 as httpx

from api.settings import get_settings
from bench import databases, scenarios, servers
from bench.load import Request
from geo.seed import demo_days_back

WAITING = ("poll", "select", "acquire", "wait")  # event loop and lock waits: not Python's work


async def _run(request: Request, requests: int, token_for: str) -> tuple[float, pstats.Stats]:
    from api.app import create_app  # after DATABASE_URL is set: settings are read once

    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"content-type": "application/json", "accept-encoding": "identity"}
            if request.authorization:
                login = f'mutation {{ login(username: "{token_for}", password: "demo") }}'
                answer = await client.post("/graphql", json={"query": login})
                headers["authorization"] = "Bearer " + answer.json()["data"]["login"]
            for _ in range(3):  # warm: caches, pools, the stored route plan
                await client.request(
                    request.method, request.path, content=request.body, headers=headers
                )
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            for _ in range(requests):
                await client.request(
                    request.method, request.path, content=request.body, headers=headers
                )
            profile.disable()
            return (time.perf_counter() - started) / requests, pstats.Stats(profile)


def _waiting_s(stats: pstats.Stats) -> float:
    table = stats.stats  # type: ignore[attr-defined]
    return sum(
        row[2]  # tottime
        for (_, _, name), row in table.items()
        if name.startswith(("<method", "{method")) and any(word in name for word in WAITING)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--scenario", default="b_enterprises_1000")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--server", default=databases.DEFAULT_SERVER)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    database_url = databases.ensure(args.server, args.size)
    # As the harness's server is configured (bench/servers.py); the settings were read on
    # import (bench/databases.py), so they are read again.
    os.environ["DATABASE_URL"] = servers.serving(database_url)
    os.environ["FUGONG_PLAN_DAYS_BACK"] = str(demo_days_back())
    get_settings.cache_clear()
    bbox, _ = scenarios.viewport(database_url)
    zone = scenarios.route_zone(database_url)
    chosen = {s.name: s for s in scenarios.all_scenarios(bbox, "profiled", zone)}
    if args.scenario not in chosen:
        raise SystemExit(f"--scenario is one of {', '.join(chosen)}")
    request = chosen[args.scenario].fugong
    per_request_s, stats = asyncio.run(_run(request, args.requests, "district"))
    total_s = stats.total_tt  # type: ignore[attr-defined]
    waiting_s = _waiting_s(stats)
    print(
        f"{args.scenario} at {args.size:,}: {per_request_s * 1000:.1f} ms a request in-process"
        f" (profiled); the event loop waiting {waiting_s / total_s:.0%} (database, worker"
        f" threads), its own Python {1 - waiting_s / total_s:.0%}"
    )
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
