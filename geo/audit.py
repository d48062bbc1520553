"""The audit log of personal data read: who, which field of which record, when."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from sqlalchemy import insert
from sqlalchemy.orm import Session

from geo.models import AuditEntry, table_of
from geo.scope import Caller

READ_PERSONAL = "READ_PERSONAL"


def record_reads(session: Session, caller: Caller, reads: Sequence[tuple[str, str]]) -> None:
    """One row per record read, naming its fields; one statement for the whole request."""
    rows = [
        {
            "account_id": caller.account_id,
            "action": READ_PERSONAL,
            "target": target,
            "fields": sorted({field for _, field in group}),
        }
        for target, group in groupby(sorted(set(reads)), key=lambda read: read[0])
    ]
    session.execute(insert(table_of(AuditEntry)), rows)
