"""The `fugong` command: serve, migrate, reassess flags, seed, import roads, the local database."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
import tempfile
from pathlib import Path

import uvicorn
from sqlalchemy.orm import Session

from api import localdb
from api.database import database_url, owner_url, serving_role
from api.logs import log_config
from api.settings import get_settings
from geo.db import make_engine

# uvicorn kills a worker that does not answer its supervisor's ping within this, and starts
# another: its default, 5 s, is shorter than a worker's start on a loaded machine (importing
# the app) and than a busy one's wait for the GIL, so under load workers were killed in turn
# (the benchmark saw 12 in a minute), their requests lost and their caches cold.
WORKER_HEALTHCHECK_S = 60


def serve(args: argparse.Namespace) -> None:
    settings = get_settings()
    database_url(settings)  # start the local cluster once, before the workers race to
    with contextlib.ExitStack() as stack:
        if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Each worker writes its metrics here, so that /metrics answers for all of them.
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="fugong-metrics-"))
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=args.workers,
            ws_max_size=settings.max_body_bytes,  # the body cap, for WebSocket messages too
            log_level="info",
            log_config=log_config(settings.log_format),
            access_log=settings.access_log,
            timeout_graceful_shutdown=settings.shutdown_s,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )


def migrate(args: argparse.Namespace) -> None:
    import migrations
    from api import roles

    settings = get_settings()
    engine = make_engine(owner_url(settings))
    with engine.begin() as connection:
        migrations.upgrade(connection)
        if app := serving_role(settings):
            roles.grant(connection, app)
    print("database is at the latest schema")


def reassess(args: argparse.Namespace) -> None:
    from geo import flag_writes

    settings = get_settings()
    # As the owner: the rules write flags of every town, which row-level security walls.
    engine = make_engine(owner_url(settings))
    with engine.begin() as connection:
        changed = flag_writes.reassess_all(connection, settings.flag_thresholds)
    print(f"{changed} flags changed by the rules")


def seed(args: argparse.Namespace) -> None:
    from geo import seed as demo

    engine = make_engine(owner_url(get_settings()))
    with engine.begin() as connection:
        if args.reset:
            demo.reset(connection)
        elif not demo.is_empty(connection):
            if args.if_empty:
                print("database already holds data; left as it is")
                return
            raise SystemExit("database already holds data: pass --reset to replace it")
        written = demo.seed(connection, enterprises=args.enterprises, progress=sys.stderr.isatty())
    print(", ".join(f"{count} {table}" for table, count in written.items()))


def user(args: argparse.Namespace) -> None:
    from geo import accounts
    from geo.models import Role

    engine = make_engine(owner_url(get_settings()))
    with Session(engine) as session, session.begin():
        if args.action == "add":
            password = (
                sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
            )
            accounts.create(
                session, args.username, password, Role(args.role), args.town, args.zone or ()
            )
            print(f"added {args.username} ({args.role})")
        elif args.action == "disable":
            accounts.set_disabled(session, args.username)
            print(f"disabled {args.username}: their tokens stop working now")
        else:
            for row in accounts.listing(session):
                state = "disabled" if row["disabled"] else "enabled"
                where = row["town_code"] or ",".join(map(str, row["zone_ids"] or [])) or "-"
                print(f"{row['username']:<20} {row['role'].value:<17} {where:<12} {state}")


def import_roads(args: argparse.Namespace) -> None:
    from geo import osm_roads

    if (args.file is None) is (not args.clear):
        raise SystemExit("fugong import-roads: give FILE.osm, or --clear to remove the roads")
    engine = make_engine(owner_url(get_settings()))
    with engine.begin() as connection:
        if args.clear:
            osm_roads.clear(connection)
            print("the road network is removed: routes measure straight lines")
            return
        counts = osm_roads.import_osm(connection, args.file)
    print(", ".join(f"{count} {what}" for what, count in counts.items()))


def verify_history(args: argparse.Namespace) -> None:
    from geo import history

    engine = make_engine(owner_url(get_settings()))
    with engine.connect() as connection:
        verdicts = [history.verify(connection, table) for table in history.CHAINED]
    for verdict in verdicts:
        print(verdict)
    if not all(verdict.intact for verdict in verdicts):
        raise SystemExit(1)


def osm_file(value: str) -> str:
    # Checked before connecting: a typo should not wait for (or start) a database.
    if not os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"no such file: {value}")
    return value


def db(args: argparse.Namespace) -> None:
    settings = get_settings()
    if args.action == "url":
        print(settings.database_url or localdb.url(settings))
    elif settings.database_url:
        raise SystemExit("DATABASE_URL is set; fugong does not manage that server")
    elif args.action == "start":
        print(localdb.start(settings))
    elif args.action == "stop":
        localdb.stop(settings)
    else:
        running = localdb.status(settings)
        print(f"{'running' if running else 'stopped'}: {localdb.url(settings)}")
        raise SystemExit(0 if running else 3)


def backup(args: argparse.Namespace) -> None:
    from api import backup as dump

    # As the owner, who may read every table (the hash chain included), whatever the policies.
    dump.backup(owner_url(get_settings()), args.file)
    print(f"wrote {args.file} ({args.file.stat().st_size} bytes)")


def restore(args: argparse.Namespace) -> None:
    from api import backup as dump
    from api import roles

    settings = get_settings()
    dump.restore(owner_url(settings), args.file, replace=args.replace)
    if app := serving_role(settings):  # --no-owner restores no grants: the server's, again
        engine = make_engine(owner_url(settings))
        with engine.begin() as connection:
            roles.grant(connection, app)
        engine.dispose()
    print(f"restored {args.file}")


def parser() -> argparse.ArgumentParser:
    from geo.seed import DEMO_ENTERPRISES

    root = argparse.ArgumentParser(prog="fugong", description=__doc__)
    commands = root.add_subparsers(required=True, metavar="command")

    run = commands.add_parser("serve", help="serve GraphQL on HOST:PORT (127.0.0.1:8000)")
    run.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    run.set_defaults(handler=serve)

    commands.add_parser("migrate", help="bring the schema up to date").set_defaults(handler=migrate)

    commands.add_parser(
        "reassess", help="apply the flag rules (FUGONG_FLAG_*) to every flag not set by hand"
    ).set_defaults(handler=reassess)

    fill = commands.add_parser("seed", help="write the Changle District demo data")
    fill.add_argument(
        "--enterprises",
        type=int,
        default=DEMO_ENTERPRISES,
        help="generated enterprises (rentals and sites in proportion)",
    )
    fill.add_argument("--if-empty", action="store_true", help="do nothing if data exists")
    fill.add_argument("--reset", action="store_true", help="delete all data first")
    fill.set_defaults(handler=seed)

    people = commands.add_parser("user", help="accounts: add, list, disable")
    actions = people.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account (asks for the password)")
    add.add_argument("username")
    add.add_argument(
        "--role", required=True, choices=["DISTRICT_OFFICER", "TOWN_OFFICER", "INSPECTOR"]
    )
    add.add_argument("--town", help="a town officer's town code, e.g. 350112109")
    add.add_argument("--zone", type=int, action="append", help="an inspector's patrol zone id")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    actions.add_parser("list", help="list accounts")
    off = actions.add_parser("disable", help="disable an account; its tokens stop working")
    off.add_argument("username")
    people.set_defaults(handler=user)

    osm = commands.add_parser(
        "import-roads", help="replace the road network with an OpenStreetMap XML extract"
    )
    osm.add_argument("file", metavar="FILE.osm", type=osm_file, nargs="?")
    osm.add_argument("--clear", action="store_true", help="remove the road network instead")
    osm.set_defaults(handler=import_roads)

    commands.add_parser(
        "verify-history", help="check the hash chains of flag_change and audit_log"
    ).set_defaults(handler=verify_history)
    save = commands.add_parser("backup", help="the whole database to FILE (pg_dump, custom)")
    save.add_argument("file", metavar="FILE", type=Path)
    save.set_defaults(handler=backup)
    load = commands.add_parser("restore", help="a backup FILE into the database")
    load.add_argument("file", metavar="FILE", type=Path)
    load.add_argument("--replace", action="store_true", help="drop a database holding tables")
    load.set_defaults(handler=restore)

    local = commands.add_parser("db", help="the local PostGIS cluster under .pgdata/")
    local.add_argument("action", choices=["start", "stop", "status", "url"])
    local.set_defaults(handler=db)
    return root


def main() -> None:
    from geo.errors import FugongError

    args = parser().parse_args()
    try:
        args.handler(args)
    except localdb.LocalDatabaseError as error:
        raise SystemExit(str(error)) from None
    except FugongError as error:
        raise SystemExit(f"fugong: {error.message}") from None
