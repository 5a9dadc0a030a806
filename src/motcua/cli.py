"""``python -m motcua <command>``: what the Makefile targets call."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from motcua import config

BIN = Path(sys.executable).parent


def _server_admin_url() -> str:
    """A superuser URL on the test server: WAREHOUSE_URL's server or the embedded one."""
    external = os.environ.get("WAREHOUSE_URL")
    if external:
        return config.parse_pg_url(external).url("postgres")
    from motcua.warehouse.embedded import ensure_server

    return ensure_server().admin_url


def _dev_env(admin_url: str) -> dict[str, str]:
    """Environment for linters and tests: a scratch database for dbt's profile."""
    from motcua.runner import _ensure_database

    params = config.parse_pg_url(admin_url)
    _ensure_database(admin_url, "motcua_dev")
    env = dict(os.environ)
    config.apply_telemetry_off(env)
    env.update(config.dbt_env(params.url("motcua_dev")))
    env["MOTCUA_TEST_ADMIN_URL"] = admin_url
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _call(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env, cwd=cwd or config.repo_root(), check=False).returncode


def lint(env: dict[str, str]) -> int:
    project = str(config.dbt_project_dir())
    steps = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "dbt"), "parse", "--project-dir", project, "--profiles-dir", project, "--quiet"],
    ]
    for step in steps:
        code = _call(step, env)
        if code != 0:
            return code
    # from inside the project, so its .sqlfluff selects the dbt templater
    sqlfluff = [
        str(BIN / "sqlfluff"),
        "lint",
        "models",
        "macros",
        "tests",
        "analyses",
        "--disable-progress-bar",
        "--nocolor",
        "--processes",
        "2",
    ]
    return _call(
        [a for a in sqlfluff if a != "analyses" or (Path(project) / a).exists()],
        env,
        cwd=Path(project),
    )


def _ensure_browser(env: dict[str, str]) -> None:
    """Debian's Chromium for the dashboard test: installed when we may (root, apt).

    In CI (``CI=true``) the browser tests must not skip silently, so they are
    made to fail when Chromium is still missing.
    """
    import shutil

    if not shutil.which("chromium") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("+ apt-get install chromium (dashboard test)", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "check": False}
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=apt_env, **quiet)  # type: ignore[call-overload]
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=apt_env, **quiet)  # type: ignore[call-overload]
    if os.environ.get("CI", "").lower() == "true":
        env.setdefault("MOTCUA_REQUIRE_BROWSER", "1")


def test(extra: list[str]) -> int:
    env = _dev_env(_server_admin_url())
    _ensure_browser(env)
    code = lint(env)
    if code != 0:
        print("lint failed", file=sys.stderr)
        return code
    code = _call([str(BIN / "pytest"), *extra], env)
    return code


def _load(args: argparse.Namespace) -> None:
    import json

    from motcua import pipeline
    from motcua.runner import resolve_warehouse

    url = args.url or resolve_warehouse()[0]
    inbox = args.inbox or config.inbox_dir()
    run_date = config.parse_run_date(args.run_date) if args.run_date else config.today_local()
    result = pipeline.ingest_inbox(url, inbox, run_date)
    print(json.dumps(result, ensure_ascii=False, indent=1))


def _docs(port: int) -> int:
    """The data dictionary of the marts: dbt docs against the warehouse's catalog."""
    from motcua.runner import resolve_warehouse

    env = dict(os.environ)
    config.apply_telemetry_off(env)
    env.update(config.dbt_env(resolve_warehouse()[0]))
    project = str(config.dbt_project_dir())
    base = [str(BIN / "dbt"), "docs"]
    flags = ["--project-dir", project, "--profiles-dir", project]
    code = _call([*base, "generate", *flags], env)
    if code == 0 and port:
        print(f"serving http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        code = _call(
            [*base, "serve", *flags, "--port", str(port), "--host", "127.0.0.1", "--no-browser"],
            env,
        )
    print(f"static site: {project}/target/index.html (+ manifest.json, catalog.json)")
    return code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="motcua", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the nightly DAG once and print the summary")
    t = sub.add_parser("test", help="lint + the whole pytest suite")
    t.add_argument("pytest_args", nargs=argparse.REMAINDER)
    sub.add_parser("lint", help="ruff + sqlfluff")
    b = sub.add_parser("bench", help="load benchmark (psql \\copy) or --build benchmark (dbt)")
    b.add_argument("--rows", type=int, default=1_000_000)
    b.add_argument("--memory-rows", type=int, nargs="*", default=None)
    b.add_argument("--build", action="store_true", help="full vs incremental dbt build instead")
    b.add_argument("--dossiers", type=int, nargs="+", default=[1_000_000, 10_000_000])
    b.add_argument("--fraction", type=float, default=0.005, help="nightly delta / dossiers")
    b.add_argument("--data-dir", type=Path, default=None, help="keep (and reuse) files here")
    b.add_argument("--verify", action="store_true", help="then compare with --full-refresh")
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
    elif args.command == "test":
        sys.exit(test(args.pytest_args))
    elif args.command == "lint":
        sys.exit(lint(_dev_env(_server_admin_url())))
    elif args.command == "bench":
        from motcua import bench

        if args.build:
            bench.build_main(args.dossiers, args.fraction, args.data_dir, args.verify)
        else:
            bench.main(args.rows, args.memory_rows)
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
