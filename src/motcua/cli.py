"""``python -m motcua <command>``: what the Makefile targets call."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from motcua import config

BIN = Path(sys.executable).parent


def _call(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env, cwd=cwd or config.repo_root(), check=False).returncode


def _load(args: argparse.Namespace) -> None:
    import json

    from motcua import pipeline
    from motcua.runner import resolve_warehouse

    url = args.url or resolve_warehouse()[0]
    inbox = args.inbox or config.inbox_dir()
    run_date = config.parse_run_date(args.run_date) if args.run_date else config.today_local()
    result = pipeline.ingest_inbox(url, inbox, run_date)
    print(json.dumps(result, ensure_ascii=False, indent=1))


# dbt docs' page loads a usage tracker from a CDN when the manifest allows
# tracking (ours never does); the loader's URL is removed anyway, so the page
# the project writes references no other host (tests/test_docs_offline.py).
_TRACKER_LOADER = re.compile(r"""(\.src\s*=\s*)["'](?:https?:)?//[^"']+["']""")


def offline_docs_page(html: str) -> str:
    """dbt's docs page with every script loader pointing at another host emptied."""
    return _TRACKER_LOADER.sub(r'\1""', html)


def _docs(port: int) -> int:
    """The data dictionary of the marts: dbt docs against the warehouse's catalog.

    Served by a plain local HTTP server rather than ``dbt docs serve``, which
    copies dbt's page (with its tracker loader) over ours.
    """
    from motcua.runner import resolve_warehouse

    env = dict(os.environ)
    config.apply_telemetry_off(env)
    env.update(config.dbt_env(resolve_warehouse()[0]))
    # dbt compiles every model for the page: the dates in it are as of RUN_DATE or today
    env[config.RUN_DATE_ENV] = (config.run_date_setting() or config.today_local()).isoformat()
    project = config.dbt_project_dir()
    flags = ["--project-dir", str(project), "--profiles-dir", str(project)]
    code = _call([str(BIN / "dbt"), "docs", "generate", *flags], env)
    page = project / "target" / "index.html"
    if code == 0:
        page.write_text(offline_docs_page(page.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"static site: {page} (+ manifest.json, catalog.json)")
    if code == 0 and port:
        print(f"serving http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        server = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
        code = _call([*server, "--directory", str(page.parent)], env)
    return code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="motcua", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the nightly DAG once and print the summary")
    ld = sub.add_parser("load", help="load an inbox into raw (no dbt), print per-file outcomes")
    ld.add_argument("--inbox", type=Path, default=None)
    ld.add_argument("--url", default=None, help="warehouse URL (default: WAREHOUSE_URL/embedded)")
    ld.add_argument("--run-date", default=None)
    d = sub.add_parser("docs", help="dbt docs generate (+ serve on --port)")
    d.add_argument("--port", type=int, default=0, help="serve on this port (0: only generate)")
    bi = sub.add_parser("bi", help="Superset on loopback with the BI assets (make bi)")
    bi.add_argument("bi_args", nargs=argparse.REMAINDER)
    sub.add_parser("stop", help="stop the embedded PostgreSQL")
    sub.add_parser(
        "url", help="print the warehouse URL, password masked (starting the embedded server)"
    )
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bi"]:
        # its own parser: argparse's REMAINDER refuses a first argument that is an
        # option (`motcua bi --port 8088`, as make bi calls it)
        from motcua.bi import cli as bi_cli

        sys.exit(bi_cli.main(argv[1:]))
    args = parser.parse_args(argv)

    if args.command == "run":
        from motcua import runner

        runner.main()
    elif args.command == "load":
        _load(args)
    elif args.command == "docs":
        sys.exit(_docs(args.port))
    elif args.command == "stop":
        from motcua.warehouse.embedded import stop_server

        stop_server()
    elif args.command == "url":
        from motcua.runner import resolve_warehouse

        # never the secret itself: the embedded one is in .local/pg/password
        print(config.parse_pg_url(resolve_warehouse()[0]).masked())
