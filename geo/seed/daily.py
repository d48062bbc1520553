"""14 days of the demo's daily duties up to the day it depicts: health registration reports of
the enterprises back at work (about 93 % report on a day, a few with a fever case), and the
beds occupied at each quarantine site, rising towards the figure stored on the site.

Written by SQL from what is already seeded (flag history, staff), pseudo-random by a hash of
enterprise and day, so the same demo always gets the same reports, in well under a second.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, text

from geo import flag_writes as flags
from geo.seed.history import LAST_DAY

DAYS = 14
LAST = date(2020, 2, LAST_DAY)
FIRST = LAST - timedelta(days=DAYS - 1)
ACTOR = "demo"
MAX_ENTERPRISES = 10_000  # larger seeds (benchmarks) get no daily reports

_HEALTH = text(
    """
WITH days AS (
    SELECT d::date AS day, (d::date - :first)::float / (:last - :first) AS progress
    FROM generate_series(:first, :last, interval '1 day') d
), drawn AS (
    SELECT e.id, e.staff_total, e.staff_out_of_province, e.has_dormitory, days.day,
           least(e.staff_total, round(e.staff_returned * (0.7 + 0.3 * days.progress)))::int
               AS on_site,
           abs(hashtext(e.id || '/' || days.day)) AS r,
           (SELECT f.to_color FROM flag_change f
            WHERE f.enterprise_id = e.id
              AND f.at < (days.day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
            ORDER BY f.at DESC, f.id DESC LIMIT 1) AS color
    FROM enterprise e CROSS JOIN days
), checked AS (
    SELECT *, greatest(0, on_site - (r / 100 % 4 = 0)::int) AS checked FROM drawn
    WHERE color IN ('GREEN', 'YELLOW') AND r % 100 < 93
)
INSERT INTO health_report (enterprise_id, day, revision, on_site, checked, fever, isolated,
                           out_of_province, dormitory_disinfected, reported_at, reported_by)
SELECT id, day, 1, on_site, checked,
       least(checked, (r / 1000 % 250 = 0)::int),
       least(staff_total, CASE WHEN r / 7 % 25 = 0 THEN 1 + r % 3 ELSE 0 END),
       least(staff_out_of_province, on_site),
       CASE WHEN has_dormitory THEN r % 40 <> 0 END,
       (day + time '08:30' + (r % 120) * interval '1 minute') AT TIME ZONE 'Asia/Shanghai',
       :actor
FROM checked
"""
)
_REVISIONS = text(
    """
INSERT INTO health_report_revision (enterprise_id, day, revision, on_site, checked, fever,
    isolated, out_of_province, dormitory_disinfected, reported_at, reported_by)
SELECT enterprise_id, day, revision, on_site, checked, fever, isolated, out_of_province,
       dormitory_disinfected, reported_at, reported_by
FROM health_report
"""
)
_FEVERISH = text(
    """
SELECT enterprise_id, fever, reported_at FROM (
    SELECT DISTINCT ON (enterprise_id) enterprise_id, fever, reported_at FROM health_report
    ORDER BY enterprise_id, day DESC) latest
WHERE fever > 0 ORDER BY enterprise_id
"""
)
_OCCUPANCY = text(
    """
INSERT INTO quarantine_occupancy (quarantine_site_id, day, beds_occupied, recorded_at, recorded_by)
SELECT q.id, d::date,
       CASE WHEN d::date = :last THEN q.beds_occupied
            ELSE least(q.beds_total, greatest(0, round(
                q.beds_occupied * (0.35 + 0.65 * (d::date - :first)::float / (:last - :first))
                + abs(hashtext(q.id || '/' || d::date)) % 5 - 2)))::int END,
       (d::date + time '20:00') AT TIME ZONE 'Asia/Shanghai', :actor
FROM quarantine_site q, generate_series(:first, :last, interval '1 day') d
"""
)


def seed_daily(connection: Connection, enterprises: int) -> dict[str, int]:
    """Write the daily reports; an enterprise whose latest report has a fever case gives it to
    the flag rules as a report through the API would, when it was reported."""
    params = {"first": FIRST, "last": LAST, "actor": ACTOR}
    written = {"quarantine_occupancy": connection.execute(_OCCUPANCY, params).rowcount}
    if enterprises > MAX_ENTERPRISES:
        return written
    written["health_report"] = connection.execute(_HEALTH, params).rowcount
    connection.execute(_REVISIONS)
    changes = [
        flags.apply_fever_cases(connection, row.enterprise_id, row.fever, ACTOR, row.reported_at)
        for row in connection.execute(_FEVERISH).all()
    ]
    written["flag_change"] = sum(update.change is not None for update in changes)
    return written
