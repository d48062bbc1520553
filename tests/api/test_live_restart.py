"""A subscription outlives a restart of PostgreSQL: a real server process on a copy of the test
cluster that this test stops and starts, while the rest of the suite uses its own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

from sqlalchemy import text

from geo.db import libpq_url, make_engine
from geo.live import Listener
from tests.cluster import cloned_cluster
from tests.live import JINFENG, UPDATE, enterprise_in, login, post, serving, subscribe

OUTAGE_S = 4.0


def cpu_seconds(pid: int) -> float:
    """User and system time the process has spent, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listening(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return bool(connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fugong-listener'"
            )).scalar_one())  # fmt: skip
    except Exception:  # noqa: BLE001 - the server may still be starting
        return False
    finally:
        engine.dispose()


def test_a_subscriber_hears_changes_after_the_database_restarts(engine, tmp_path):
    log = tmp_path / "server.log"
    with cloned_cluster(engine, standby=False) as cluster:
        target = enterprise_in(cluster.url, True)
        with serving(cluster.url, log) as (base, process):
            with subscribe(base, login(base, "town"), JINFENG) as websocket:
                assert listening(cluster.url)
                cluster.stop()
                cpu, size = cpu_seconds(process.pid), log.stat().st_size
                time.sleep(OUTAGE_S)
                outage_cpu_s = cpu_seconds(process.pid) - cpu
                outage_log = log.read_bytes()[size:].decode(errors="replace")
                cluster.start()
                deadline = time.monotonic() + 30
                while not listening(cluster.url):
                    assert time.monotonic() < deadline, "the listener did not come back"
                    time.sleep(0.2)
                body = post(
                    base,
                    login(base, "district"),
                    UPDATE,
                    id=f"Enterprise:{target}",
                    input={"status": "NOT_RESUMED"},
                )
                assert body["data"]["updateResumption"]["color"] == "RED", body
                message = json.loads(websocket.recv(10))
        # It stopped when asked (uvicorn ends by re-raising SIGTERM), within serving()'s wait.
        assert process.returncode == -signal.SIGTERM
    assert message["type"] == "next", message
    assert message["payload"]["data"]["flagChanged"]["target"]["id"] == f"Enterprise:{target}"
    # Idle while the database is away (a spinning loop burns a core: ~OUTAGE_S seconds) ...
    assert outage_cpu_s < 0.1 * OUTAGE_S, outage_cpu_s
    # ... and one line said so, not a traceback per turn of the loop.
    assert len(outage_log.splitlines()) <= 2, outage_log


def test_the_listener_says_whether_it_is_connected(engine):
    async def states() -> list[bool]:
        listener = Listener(libpq_url(engine.url.render_as_string(hide_password=False)))
        seen = [listener.connected]
        async with listener.subscribe():
            seen.append(listener.connected)
        await listener.close()
        return [*seen, listener.connected]

    assert asyncio.run(states()) == [False, True, False]
