"""fugong as it runs in production, for tests that need a real server: uvicorn in its own
process on a free port, on a database of its own (changes there really commit)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
from sqlalchemy import Engine

import migrations
from geo import seed
from geo.db import make_engine
from tests.conftest import scratch_database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # type: ignore[no-any-return]


@contextlib.contextmanager
def seeded_database(engine: Engine, suffix: str, enterprises: int | None = None) -> Iterator[str]:
    """A scratch database, migrated and seeded with the demo (`enterprises` of them); its URL."""
    with scratch_database(engine, suffix) as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection)
            if enterprises is None:
                seed.seed(connection)
            else:
                seed.seed(connection, enterprises=enterprises)
        scratch.dispose()
        yield url


@contextlib.contextmanager
def served(database_url: str, **environment: str) -> Iterator[str]:
    """`fugong serve` on a free port with these settings; its base URL, once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {"DATABASE_URL": database_url, "PORT": str(port), "FUGONG_PUBLIC_URL": base}
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve"],
        env={**os.environ, **settings, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, f"fugong serve exited with {process.returncode}"
            assert time.monotonic() < deadline, f"{base} did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def post(base: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    """A GraphQL request as any client sends it; the whole answer (data and errors)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.json()  # type: ignore[no-any-return]


def login(base: str, username: str) -> str:
    """A demo account's token, logged in through the API."""
    query = 'mutation ($u: String!) { login(username: $u, password: "demo") }'
    return post(base, query, u=username)["data"]["login"]  # type: ignore[no-any-return]
