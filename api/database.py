"""Which database fugong uses: DATABASE_URL, or its own local cluster started on demand; as
the serving role, or as the schema's owner (api/roles.py)."""

from __future__ import annotations

from sqlalchemy import make_url

from api import localdb, roles
from api.settings import Settings


def database_url(settings: Settings) -> str:
    """The serving role's database: what `fugong serve` connects as."""
    if settings.database_url:
        return settings.database_url
    return localdb.start(settings)


def owner_url(settings: Settings) -> str:
    """The owner's: migrations, the seed and accounts are written as it."""
    if settings.database_owner_url:
        return settings.database_owner_url
    if settings.database_url:
        return settings.database_url  # one role for both: it then serves with the owner's rights
    localdb.start(settings)
    return localdb.url(settings, roles.OWNER)


def serving_role(settings: Settings) -> str | None:
    """The role to grant what requests need; None when it is the owner itself."""
    app = make_url(database_url(settings)).username
    owner = make_url(owner_url(settings)).username
    return None if app == owner else app
