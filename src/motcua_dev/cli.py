"""``python -m motcua_dev <command>``: the developers' commands (``make test``, ``make bench``).

Kept out of the runtime package ``motcua``: the production image ships neither
these commands nor the generator, the API simulator, the benchmarks or the
Celery test stack that live beside them in ``motcua_dev``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from motcua import config
from motcua.cli import _call

BIN = Path(sys.executable).parent


def _server_admin_url() -> str:
    """A superuser URL on the test server: WAREHOUSE_URL's server or the embedded one."""
    external = config.warehouse_url_setting()
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


# sqlfluff's dbt templater compiles the models, which need a run date (macro run_date)
LINT_RUN_DATE = "2017-07-14"


def lint(env: dict[str, str]) -> int:
    project = str(config.dbt_project_dir())
    env = {**env, config.RUN_DATE_ENV: LINT_RUN_DATE}
    dbt_flags = ["--project-dir", project, "--profiles-dir", project, "--quiet"]
    steps = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "dbt"), "parse", *dbt_flags],
        # the staging models read the vocabularies from their seed when they compile
        [str(BIN / "dbt"), "seed", "--select", "vocabularies", *dbt_flags],
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="motcua_dev", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("test", help="lint + the whole pytest suite")
    t.add_argument("pytest_args", nargs=argparse.REMAINDER)
    sub.add_parser("lint", help="ruff + sqlfluff")
    b = sub.add_parser(
        "bench",
        help="loader vs psql \\copy; --build: dbt builds; --nightly: Airflow vs direct",
    )
    b.add_argument("--rows", type=int, default=1_000_000)
    b.add_argument("--memory-rows", type=int, nargs="*", default=None)
    b.add_argument("--build", action="store_true", help="full vs incremental dbt build instead")
    b.add_argument(
        "--nightly", action="store_true", help="the nightly DAG through Airflow vs called directly"
    )
    b.add_argument(
        "--dossiers",
        type=int,
        nargs="*",
        default=None,
        help="generated inbox sizes (--build: default 1000000 10000000; --nightly: none)",
    )
    b.add_argument("--fraction", type=float, default=0.005, help="nightly delta / dossiers")
    b.add_argument("--data-dir", type=Path, default=None, help="keep (and reuse) files here")
    b.add_argument("--verify", action="store_true", help="then compare with --full-refresh")
    b.add_argument("--full-builds", type=int, default=3, help="for a median and a spread")
    b.add_argument("--nights", type=int, default=3, help="one after the other, each its delta")
    b.add_argument(
        "--provinces",
        type=int,
        default=0,
        help="--build: the inbox spread over N provinces of today's map (default: Ninh Hòa)",
    )
    args = parser.parse_args(argv)
    if args.command == "test":
        sys.exit(test(args.pytest_args))
    elif args.command == "lint":
        sys.exit(lint(_dev_env(_server_admin_url())))
    elif args.command == "bench":
        from motcua_dev import bench

        if args.nightly:
            from motcua_dev import bench_nightly

            bench_nightly.main(args.dossiers or [], args.fraction)
        elif args.build:
            sizes = args.dossiers if args.dossiers is not None else [1_000_000, 10_000_000]
            bench.build_main(
                sizes,
                args.fraction,
                args.data_dir,
                args.verify,
                (args.full_builds, args.nights),
                args.provinces,
            )
        else:
            bench.main(args.rows, args.memory_rows)
