"""A login flood: 32 connections posting wrong passwords as fast as they can, while one client
reads a page of enterprises; reports the server's peak RSS and that client's p50/p99 before and
during the flood. fugong serves a benchmark database (bench.databases) as in bench.harness,
which runs this too (`--login-flood SECONDS`).

    .venv/bin/python -m bench.login_flood --seconds 20 [--size 10000] [--many-addresses]

`--many-addresses` raises the per-address limit, as a flood from many machines would escape
it, so every attempt reaches the password hash: what bounds memory then is the hashing limit.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
from pathlib import Path

import httpx2 as httpx

from bench import databases, servers

LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) }"
PAGE = {"query": "{ enterprises(first: 20) { edges { node { id name flag { color } } } } }"}


def rss_mib(pid: int) -> float:
    """Resident memory of the server and every process under it."""
    pids = [pid, *map(int, subprocess.run(
        ["pgrep", "-g", str(pid)], capture_output=True, text=True
    ).stdout.split())]  # fmt: skip
    total_kib = 0
    for each in set(pids):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        rss = [line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")]
        total_kib += int(rss[0]) if rss else 0
    return total_kib / 1024


async def reader(client: httpx.AsyncClient, until: float) -> list[float]:
    timings = []
    while time.monotonic() < until:
        started = time.monotonic()
        response = await client.post("/graphql", json=PAGE)
        response.raise_for_status()
        timings.append((time.monotonic() - started) * 1000)
    return timings


async def flooder(client: httpx.AsyncClient, until: float, n: int, codes: dict[str, int]) -> None:
    i = 0
    while time.monotonic() < until:
        i += 1
        body = {"query": LOGIN, "variables": {"u": f"flood{n}-{i}", "p": "wrong"}}
        errors = (await client.post("/graphql", json=body)).json().get("errors") or [{}]
        code = errors[0].get("extensions", {}).get("code", "OK")
        codes[code] = codes.get(code, 0) + 1


async def sample(pid: int, until: float, peak: list[float]) -> None:
    while time.monotonic() < until:
        peak.append(rss_mib(pid))
        await asyncio.sleep(0.2)


def percentiles(timings: list[float]) -> str:
    if len(timings) < 2:
        return "too few requests"
    cuts = statistics.quantiles(timings, n=100)
    return f"n={len(timings)} p50={cuts[49]:.0f} ms p99={cuts[98]:.0f} ms"


async def run(base: str, pid: int, seconds: float, connections: int) -> list[str]:
    # One kept-alive connection for the reader, as a browser or app holds one; the flood's
    # client made beforehand (making 32 clients at once stalls this process, not the server).
    flood_client = httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=connections)
    )
    async with httpx.AsyncClient(base_url=base, timeout=60) as client, flood_client:
        quiet = await reader(client, time.monotonic() + seconds / 2)
        idle = rss_mib(pid)
        until = time.monotonic() + seconds
        codes: dict[str, int] = {}
        peak: list[float] = []
        during, *_ = await asyncio.gather(
            reader(client, until),
            *(flooder(flood_client, until, n, codes) for n in range(connections)),
            sample(pid, until, peak),
        )
    return [
        f"{connections} connections posting wrong passwords for {seconds:g} s, one client"
        " reading a page of 20 enterprises beside them:",
        "",
        f"- reader before the flood: {percentiles(quiet)}",
        f"- reader during the flood: {percentiles(during)}, slowest {max(during):.0f} ms",
        f"- server RSS (every process): {idle:.0f} MiB idle, {max(peak):.0f} MiB peak",
        f"- login answers: {dict(sorted(codes.items()))}",
    ]


def flood(
    database_url: str, seconds: float, connections: int = 32, many_addresses: bool = False
) -> list[str]:
    """Serve the database with fugong, flood it, stop it: the figures as Markdown lines."""
    env = {"FUGONG_LOGIN_ADDRESS_FAILURES": "1000000000"} if many_addresses else {}
    with servers.fugong(database_url, env) as server:
        return asyncio.run(run(server.base_url, server.process.pid, seconds, connections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--size", type=int, default=10_000, help="enterprises in the database")
    parser.add_argument("--server", default=databases.DEFAULT_SERVER)
    parser.add_argument("--many-addresses", action="store_true")
    args = parser.parse_args()
    database_url = databases.ensure(args.server, args.size)
    lines = flood(database_url, args.seconds, args.connections, args.many_addresses)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
