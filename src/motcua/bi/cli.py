"""``python -m motcua bi``: Superset on loopback with the assets loaded (``make bi``).

The BI connection logs in as a member of ``bi_reader``: ``BI_WAREHOUSE_URL``
if set (an operator-made login, ``create role … login password '…' in role
bi_reader``); otherwise the login ``motcua_superset`` is created (or its
password reset) on the warehouse (the embedded server or ``WAREHOUSE_URL``,
which then needs CREATEROLE) with a generated password kept 0600 under
``.local/superset/``. The password reaches Superset only through its
environment, never its metadata nor the bundle.
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

import psycopg
from psycopg import sql

from motcua import config
from motcua.bi import superset as ss
from motcua.warehouse.access import BI_ROLE, apply_access

LOCAL_LOGIN = "motcua_superset"


def home() -> ss.Home:
    return ss.Home(config.local_dir() / "superset")


def ensure_bi_login(admin_url: str, password: str, login: str = LOCAL_LOGIN) -> str:
    """A login in bi_reader on the warehouse; returns its URL (with the password)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", [BI_ROLE]).fetchone():
            apply_access(conn)  # the roles migration the nightly run applies
        exists = conn.execute("select 1 from pg_roles where rolname = %s", [login]).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} login password {}").format(
                sql.Identifier(login), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("grant {} to {}").format(sql.Identifier(BI_ROLE), sql.Identifier(login))
        )
    params = config.parse_pg_url(admin_url)
    return config.PgParams(params.host, params.port, login, password, params.dbname).url()


def bi_url(h: ss.Home) -> str:
    explicit = config.bi_warehouse_url()
    if explicit:
        return explicit
    from motcua.runner import resolve_warehouse

    admin_url = resolve_warehouse()[0]
    password = ss._secret_file(h.root / "bi_login_password", 24)
    return ensure_bi_login(admin_url, password)


def setup(h: ss.Home, url: str, users: list[ss.User] = ()) -> tuple[str, bool]:  # type: ignore[assignment]
    admin_password, fresh = ss.bootstrap(h)
    ss.import_assets(h, url)
    ss.provision_access(h, users)
    return admin_password, fresh


def serve(port: int) -> int:
    h = home()
    url = bi_url(h)
    params = config.parse_pg_url(url)
    rows = ss.marts_row_count(url)
    ss.print_flush(f"warehouse: {params.masked()} (as {params.user}, member of {BI_ROLE})")
    if rows == 0:
        ss.print_flush(
            "the marts are empty (no rows in marts.commune_lateness): the dashboards will show"
            " nothing. Run `make run` first to load the sample and build the marts."
        )
    ss.print_flush("setting up Superset (first time: about a minute) ...")
    admin_password, fresh = setup(h, url)
    server = ss.start(h, params.password, port)
    ss.print_flush(f"\nSuperset: {server.url}/  (loopback only)")
    ss.print_flush(f"  user: {ss.ADMIN}")
    if fresh:
        ss.print_flush(
            f"  password: {admin_password}   (shown once; kept 0600 in {h.root}/admin_password)"
        )
    else:
        ss.print_flush(f"  password: in {h.root}/admin_password (0600)")
    ss.print_flush(
        "  dashboards: "
        + ", ".join(f"{server.url}/superset/dashboard/{d.slug}/" for d in ss.spec.DASHBOARDS)
    )
    ss.print_flush("Ctrl-C stops it.")
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def add_user(username: str, commune: str | None) -> int:
    h = home()
    import secrets

    password = secrets.token_urlsafe(12)
    ss.bootstrap(h)
    report = ss.provision_access(h, [ss.User(username, password, commune)])
    scope = f"commune {commune} only" if commune else "every commune"
    ss.print_flush(f"user {username} ({scope}); password (shown once): {password}")
    ss.print_flush(f"roles: {report}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="motcua bi", description=__doc__)
    parser.add_argument("--port", type=int, default=config.superset_port())
    sub = parser.add_subparsers(dest="action")
    u = sub.add_parser("user", help="add a Superset user (a commune account with --commune)")
    u.add_argument("username")
    u.add_argument("--commune", help="GSO code: the user sees this commune's rows only")
    b = sub.add_parser("bundle", help="write the import bundle (no password) and exit")
    b.add_argument("--out", type=Path, default=config.local_dir() / "superset" / "export")
    b.add_argument("--url", default=config.bi_warehouse_url(), help="BI login URL")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if args.action == "user":
        return add_user(args.username, args.commune)
    if args.action == "bundle":
        if not args.url:
            parser.error("--url or BI_WAREHOUSE_URL: the BI login's postgresql:// URL")
        from motcua.bi import bundle

        files = ss.bundle_files(args.url)
        bundle.write_directory(files, args.out / "yaml")
        print(bundle.write_zip(files, args.out / "motcua_superset.zip"))
        # what superset/provision_access.py applies after the import (no user, no secret)
        plan = ss.access_plan([])
        (args.out / "access_plan.json").write_text(json.dumps(plan, indent=1), encoding="utf-8")
        return 0
    return serve(args.port)
