"""Which database fugong uses: DATABASE_URL, or its own local cluster started on demand."""

from __future__ import annotations

from api import localdb
from api.settings import Settings


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return localdb.start(settings)
