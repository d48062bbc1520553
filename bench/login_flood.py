"""A login flood: 32 connections posting wrong passwords as fast as they can, while one client
reads a page of enterprises; reports the server's peak RSS and that client's p50/p99 before and
during the flood.

    .venv/bin/python -m bench.login_flood --seconds 20 [--many-addresses]

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

from bench import servers

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


async def run(base: str, pid: int, seconds: float, connections: int) -> None:
    # One kept-alive connection for the reader, as a browser or app holds one; the flood's
    # client made beforehand (making 32 clients at once stalls this process, not the server).
    flood = httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=connections)
    )
    async with httpx.AsyncClient(base_url=base, timeout=60) as client, flood:
        quiet = await reader(client, time.monotonic() + seconds / 2)
        idle = rss_mib(pid)
        until = time.monotonic() + seconds
        codes: dict[str, int] = {}
        peak: list[float] = []
        during, *_ = await asyncio.gather(
            reader(client, until),
            *(flooder(flood, until, n, codes) for n in range(connections)),
            sample(pid, until, peak),
        )
    print(f"reader before the flood: {percentiles(quiet)}")
    print(f"reader during the flood: {percentiles(during)}, slowest {max(during):.0f} ms")
    print(f"server RSS: {idle:.0f} MiB idle, {max(peak):.0f} MiB peak during the flood")
    print(f"login answers: {dict(sorted(codes.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8179)
    parser.add_argument("--many-addresses", action="store_true")
    args = parser.parse_args()
    url = subprocess.run(
        [str(servers.ROOT / ".venv/bin/fugong"), "db", "url"], capture_output=True, text=True,
        check=True,
    ).stdout.strip()
    env = {"DATABASE_URL": url, "PORT": str(args.port), "FUGONG_ACCESS_LOG": "0"}
    if args.many_addresses:
        env["FUGONG_LOGIN_ADDRESS_FAILURES"] = "1000000000"
    command = [str(servers.ROOT / ".venv/bin/fugong"), "serve"]
    with servers.started("login-flood", command, env, args.port, "/health") as server:
        asyncio.run(run(server.base_url, server.process.pid, args.seconds, args.connections))


if __name__ == "__main__":
    main()
