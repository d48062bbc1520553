"""fugong's own PostGIS cluster under .pgdata/, for when DATABASE_URL is not set.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system user
that Debian's packages create; otherwise to the caller.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from api import roles
from api.settings import Settings

DATABASE = "fugong"
SUPERUSER = "fugong"  # the cluster's administrator: creates roles, the database, extensions
EXTENSIONS = ("postgis", "pgrouting")  # neither is trusted: the superuser creates them
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "200",
    "shared_buffers": "1GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "jit": "off",  # JIT compiles cost more than our short spatial queries gain
}


class LocalDatabaseError(RuntimeError):
    pass


def url(settings: Settings, role: str = roles.APP, database: str = DATABASE) -> str:
    return f"postgresql://{role}@127.0.0.1:{settings.local_db_port}/{database}"


def bindir() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if not candidates:
        raise LocalDatabaseError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: "
            "install postgresql-15 and postgresql-15-postgis-3 (make deps does)"
        )
    return candidates[-1].parent


def _owner() -> str | None:
    """The system user to run the server as, or None for the current user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise LocalDatabaseError("running as root needs the 'postgres' system user") from None
    return "postgres"


def run_as_owner(args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    owner = _owner()
    command = ["runuser", "-u", owner, "--", *args] if owner else args
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise LocalDatabaseError(f"{' '.join(args[:2])} failed:\n{result.stderr or result.stdout}")
    return result


def _root(settings: Settings) -> Path:
    """The cluster's folder: .pgdata/ in the project, unless its owner cannot reach it there."""
    root = settings.local_db_dir
    owner = _owner()
    reachable = (
        owner is None
        or subprocess.run(
            ["runuser", "-u", owner, "--", "test", "-x", str(root.parent)], capture_output=True
        ).returncode
        == 0
    )
    if reachable:
        return root
    # A checkout in a folder private to root: keep the cluster where `postgres` can reach it.
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"fugong-pgdata-{digest}"


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    root = _root(settings)
    return root / "data", root / "run", root / "server.log"


def status(settings: Settings) -> bool:
    data, _, _ = _paths(settings)
    if not (data / "PG_VERSION").exists():
        return False
    return (
        run_as_owner([str(bindir() / "pg_ctl"), "-D", str(data), "status"], check=False).returncode
        == 0
    )


def _initialise(settings: Settings) -> None:
    data, run, _ = _paths(settings)
    for folder in (run.parent, run):
        folder.mkdir(parents=True, exist_ok=True)
        if owner := _owner():
            shutil.chown(folder, owner)
    if not (data / "PG_VERSION").exists():
        run_as_owner(
            [
                str(bindir() / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        )


def server_options() -> str:
    """The server's settings as pg_ctl -o takes them (a replica needs the same)."""
    return " ".join(f"-c {k}={v}" for k, v in SERVER_OPTIONS.items())


def start(settings: Settings) -> str:
    """Start the cluster if it is not running and make sure the database exists; return its URL."""
    if not status(settings):
        _initialise(settings)
        data, run, log = _paths(settings)
        options = server_options()
        run_as_owner(
            [
                str(bindir() / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {settings.local_db_port} -k {run} {options}",
                "start",
            ]
        )
    _ensure_database(settings)
    return url(settings)


def _ensure_database(settings: Settings) -> None:
    def psql(database: str, sql: str) -> str:
        command = [str(bindir() / "psql"), "-h", "127.0.0.1", "-p", str(settings.local_db_port)]
        command += ["-U", SUPERUSER, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql]
        return run_as_owner(command).stdout

    for role in (roles.OWNER, roles.APP):
        psql("postgres", roles.create_statement(role))
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"  # noqa: S608 (a constant)
    if psql("postgres", query).strip() != "1":
        psql("postgres", f"CREATE DATABASE {DATABASE} OWNER {roles.OWNER}")
    psql("postgres", f"ALTER DATABASE {DATABASE} OWNER TO {roles.OWNER}")
    for extension in EXTENSIONS:
        psql(DATABASE, f"CREATE EXTENSION IF NOT EXISTS {extension}")
    psql(DATABASE, _TO_OWNER)


# A cluster made before the two roles holds tables of the superuser: hand them to the owner, so
# that migrations running as the owner may alter them (extension members stay where they are).
_TO_OWNER = f"""DO $$ DECLARE item record; BEGIN
    FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'S')
          AND c.relowner = '{SUPERUSER}'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP EXECUTE format('ALTER TABLE %s OWNER TO {roles.OWNER}', item.name); END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = '{SUPERUSER}'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP EXECUTE format('ALTER ROUTINE %s OWNER TO {roles.OWNER}', item.name); END LOOP;
    FOR item IN SELECT t.oid::regtype AS name FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typowner = '{SUPERUSER}'::regrole
          AND t.typtype IN ('e', 'd')
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
    LOOP EXECUTE format('ALTER TYPE %s OWNER TO {roles.OWNER}', item.name); END LOOP;
    END $$"""  # noqa: S608 (constants)


def stop(settings: Settings) -> None:
    if status(settings):
        data, _, _ = _paths(settings)
        run_as_owner([str(bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
