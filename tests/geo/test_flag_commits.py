"""Flags across committed transactions, each test in a scratch database of its own (history
cannot be deleted, so nothing committed here may reach the shared test database): the
migration of rows already present, concurrent writers, notifications at commit."""

from __future__ import annotations

import json
import select
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from sqlalchemy import Connection, Engine, text

import migrations
from geo.db import make_engine
from geo.flag_rules import Facts, ResumptionReport, assess
from geo.flag_writes import CHANNEL, FlagEvent, apply_report, reassess_all
from geo.models import FlagColor, ResumptionStatus
from geo.targets import Target, TargetKind
from tests.conftest import scratch_database
from tests.geo.test_flag_history import broken_links, out_of_step

SHANGHAI = ZoneInfo("Asia/Shanghai")
FULL = ResumptionStatus.FULL
AREA = """
    INSERT INTO area (code, name, name_pinyin, level, parent_id, synthetic, boundary)
    VALUES (:code, :name, 'x', CAST(:level AS area_level),
        (SELECT id FROM area WHERE code = :parent), true,
        ST_Multi(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)))
"""
ENTERPRISE = """
    INSERT INTO enterprise (name, category, address, geom, staff_total, staff_returned,
        staff_out_of_province, hubei_staff_retained, capacity_pct, resumption, problems,
        has_dormitory, signboard_updated_on, resumption_reported_at)
    VALUES (:name, 'OTHER', '测试地址', ST_SetSRID(ST_Point(119.55, 25.88), 4326), :total,
        :returned, 0, 0, :capacity, CAST(:status AS resumption_status), :problems, false,
        :board, CAST(:reported AS timestamptz))
    RETURNING id
"""


@pytest.fixture
def scratch(engine: Engine) -> Iterator[Engine]:
    """A fresh, empty database on the test server, dropped afterwards."""
    with scratch_database(engine, "flags") as url:
        scratch_engine = make_engine(url)
        yield scratch_engine
        scratch_engine.dispose()


def add_enterprise(connection: Connection, **values: object) -> int:
    row = {"name": "测试企业", "total": 120, "returned": 118, "capacity": 95.0, "status": "FULL",
           "problems": [], "board": None, "reported": "2020-02-20 10:00+08", **values}  # fmt: skip
    return connection.execute(text(ENTERPRISE), row).scalar_one()


def add_district_and_town(connection: Connection) -> None:
    for code, name, level, parent, box in (
        ("350112", "长乐区", "DISTRICT", None, (119.35, 25.65, 119.75, 26.05)),
        ("350112109", "金峰镇", "TOWN", "350112", (119.50, 25.80, 119.60, 25.95)),
    ):
        connection.execute(
            text(AREA),
            {"code": code, "name": name, "level": level, "parent": parent,
             "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3]},
        )  # fmt: skip


def test_rows_already_present_are_flagged_by_the_rules_after_migrating(scratch: Engine) -> None:
    """Migration 0003 is frozen history; `fugong reassess` (reassess_all), which `make run`
    runs after migrating, flags the rows it found by today's rules."""
    with scratch.begin() as connection:
        migrations.upgrade(connection, "0002")
        ids = [
            add_enterprise(connection, status="NOT_RESUMED", returned=0, capacity=0.0),
            add_enterprise(connection, status="PARTIAL", returned=60, problems=["物流不畅"]),
            add_enterprise(connection, board="2020-02-19"),
        ]
    with scratch.begin() as connection:
        migrations.upgrade(connection)
        reassess_all(connection)
    with scratch.connect() as connection:
        rows = connection.execute(
            text("SELECT e.id, flag_color, flag_reason, flag_since, flag_overridden, c.from_color,"
                 " c.to_color, c.at, c.actor, c.source FROM enterprise e"
                 " JOIN flag_change c ON c.enterprise_id = e.id ORDER BY e.id")
        ).all()  # fmt: skip
        reported = datetime(2020, 2, 20, 10, tzinfo=SHANGHAI)
        facts = [
            Facts(ResumptionStatus.NOT_RESUMED, 120, 0, 0.0),
            Facts(ResumptionStatus.PARTIAL, 120, 60, 95.0, ("物流不畅",)),
            Facts(FULL, 120, 118, 95.0),
        ]
        assert [r.id for r in rows] == ids
        for row, fact in zip(rows, facts, strict=True):
            flag = assess(fact)
            assert (row.flag_color, row.flag_reason) == (flag.color.value, flag.reason)
            assert (row.from_color, row.to_color) == (None, flag.color.value)
            assert (row.flag_since, row.at, row.actor, row.source) == (
                reported,
                reported,
                "rules",
                "RULE",
            )
            assert row.flag_overridden is False
        boards = connection.execute(text("SELECT enterprise_id, days::text FROM signboard")).all()
        assert boards == [(ids[2], "{[2020-02-19,2020-02-20)}")]
        nullable = connection.execute(
            text("SELECT count(*) FROM information_schema.columns WHERE column_name LIKE 'flag\\_%'"
                 " AND table_name IN ('enterprise', 'construction_site') AND is_nullable = 'YES'")
        ).scalar_one()  # fmt: skip
        assert nullable == 0
    with scratch.begin() as connection:
        migrations.downgrade(connection, "0002")
        assert connection.execute(text("SELECT to_regclass('flag_change')")).scalar() is None
        migrations.upgrade(connection)
        reassess_all(connection)
        assert connection.execute(text("SELECT count(*) FROM flag_change")).scalar() == 3


def test_concurrent_reports_leave_a_consistent_flag_and_history(scratch: Engine) -> None:
    with scratch.begin() as connection:
        migrations.upgrade(connection)
        target = Target(TargetKind.ENTERPRISE, add_enterprise(connection))
    rounds = 15
    start = threading.Barrier(2)

    def report(reports: list[ResumptionReport], actor: str) -> list[FlagEvent | None]:
        start.wait()
        changes = []
        for one in reports:
            with scratch.begin() as connection:
                now = datetime.now(SHANGHAI)
                changes.append(apply_report(connection, target, one, actor, now).change)
        return changes

    # One writer opens and closes a problem; the other sends staff home and back.
    problems = [
        ResumptionReport(FULL, problems=["物流不畅"] if i % 2 else []) for i in range(rounds)
    ]
    staff = [ResumptionReport(FULL, returned=60 if i % 2 else 118) for i in range(rounds)]
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.submit(report, problems, "a"), pool.submit(report, staff, "b")
        changes = [c for c in first.result() + second.result() if c is not None]
    with scratch.connect() as connection:
        assert broken_links(connection) == []
        assert out_of_step(connection, "enterprise", "enterprise_id") == []
        history = connection.execute(
            text("SELECT id, from_color, to_color FROM flag_change ORDER BY at, id")
        ).all()
        assert sorted(c.id for c in changes) == [row.id for row in history]
        assert history[0].from_color is None
        stored = connection.execute(
            text("SELECT staff_returned, problems, flag_reason FROM enterprise")
        ).one()
        flag = assess(Facts(FULL, 120, stored.staff_returned, 95.0, tuple(stored.problems)))
        assert stored.flag_reason == flag.reason


def test_a_change_is_announced_at_commit_with_its_areas(scratch: Engine) -> None:
    with scratch.begin() as connection:
        migrations.upgrade(connection)
        add_district_and_town(connection)
        target = Target(TargetKind.ENTERPRISE, add_enterprise(connection))
    # Its own connection, outside the pool: it listens in autocommit mode.
    listener = psycopg2.connect(
        scratch.url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        listener.autocommit = True
        with listener.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        at = datetime(2020, 2, 28, 9, 30, tzinfo=SHANGHAI)
        with scratch.connect() as connection:
            apply_report(connection, target, ResumptionReport(FULL, returned=10), "town", at)
            connection.rollback()  # a change rolled back is never announced
        with scratch.begin() as connection:
            change = apply_report(
                connection, target, ResumptionReport(FULL, returned=10), "town", at
            )
        assert change.change is not None
        heard = wait_for_notifications(listener)
    finally:
        listener.close()
    assert [json.loads(n.payload) for n in heard] == [
        {"id": change.change.id, "target": f"Enterprise:{target.id}",
         "areas": ["350112", "350112109"], "from": None, "to": FlagColor.YELLOW.value,
         "at": "2020-02-28T09:30:00+08:00", "source": "RULE"},
    ]  # fmt: skip


def wait_for_notifications(listener: Any, seconds: float = 2.0) -> list[Any]:
    select.select([listener], [], [], seconds)
    listener.poll()
    heard = list(listener.notifies)
    listener.notifies.clear()
    return heard
