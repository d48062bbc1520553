"""One bounded run of wrk (Debian's) against one request, or a list sent in turn (a mix):
requests/s, p50, p99 and errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "request.lua"
CONNECTIONS = 4  # as in the measurements
THREADS = 2
GRACE_S = 30  # wrk is killed if it overruns its duration by this much


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    authorization: str | None = None


@dataclass(frozen=True)
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    body_bytes: int | None = None  # of one answer, as checked before the load


def available() -> bool:
    return shutil.which("wrk") is not None


def drive(
    base_url: str, requests: Sequence[Request], seconds: int, connections: int = CONNECTIONS
) -> Result:
    with tempfile.NamedTemporaryFile(suffix=".requests") as listed:
        listed.write(b"".join(map(_listed, requests)))
        listed.flush()
        command = [
            "wrk",
            "-t",
            str(THREADS),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(SCRIPT),
            base_url + requests[0].path,
        ]
        done = subprocess.run(
            command,
            env={**os.environ, "WRK_REQUESTS": listed.name},
            capture_output=True,
            text=True,
            timeout=seconds + GRACE_S,
        )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip()}")
    return parsed(done.stdout)


def _listed(request: Request) -> bytes:
    """request.lua's format: method, path, authorization and body length on a line, the body."""
    body = request.body or b""
    line = f"{request.method}\t{request.path}\t{request.authorization or ''}\t{len(body)}\n"
    return line.encode() + body


def parsed(output: str) -> Result:
    mine = re.search(r"BENCH p50_us=(\d+) p99_us=(\d+) failed=(\d+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if not (mine and rate and count):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = int(mine[3]) + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0)
    return Result(float(rate[1]), int(mine[1]) / 1000, int(mine[2]) / 1000, errors, int(count[1]))
