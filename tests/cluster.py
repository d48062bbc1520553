"""A copy of the test server, by pg_basebackup, on a port and in a folder of its own: a streaming
replica of it, or a server of its own that a test may stop and start without disturbing the
rest of the suite."""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api import localdb
from api.settings import get_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Cluster:
    folder: Path
    port: int
    url: str  # the test database, on this server

    def start(self) -> None:
        localdb.run_as_owner([str(localdb.bindir() / "pg_ctl"), "-D", str(self.folder / "data"),
                              "-l", str(self.folder / "log"), "-w", "-t", "60", "-o",
                              f"-p {self.port} -k {self.folder} {localdb.server_options()}",
                              "start"])  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        localdb.run_as_owner([str(localdb.bindir() / "pg_ctl"), "-D", str(self.folder / "data"),
                              "-m", mode, "-w", "stop"], check=False)  # fmt: skip


@contextlib.contextmanager
def cloned_cluster(engine: Engine, standby: bool) -> Iterator[Cluster]:
    """The test server copied and started; a replica that follows it when `standby`."""
    if get_settings().database_url:
        pytest.skip("the copy is made of fugong's own cluster; DATABASE_URL names another")
    folder = Path(tempfile.mkdtemp(prefix="fugong-cluster-"))
    if owner := localdb._owner():
        shutil.chown(folder, owner)
    port, primary = free_port(), engine.url
    localdb.run_as_owner([str(localdb.bindir() / "pg_basebackup"), "-h", "127.0.0.1",
                          "-p", str(primary.port), "-U", str(primary.username),
                          "-D", str(folder / "data"), *(["-R"] if standby else []),
                          "-X", "stream", "-c", "fast"])  # fmt: skip
    cluster = Cluster(folder, port, primary.set(port=port).render_as_string(hide_password=False))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
