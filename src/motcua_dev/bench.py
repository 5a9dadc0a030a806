"""``make bench``: the loader's COPY throughput, and the dbt build as history grows.

Load mode: both load the same generated CSV into the same server in the same
run, so the ratio is meaningful on any machine. Each load runs in a fresh
child process, whose peak RSS we read, to show that the loader's memory stays
flat as the file grows.

Build mode (``--build --dossiers N ...``): for each N, three times, a fresh
database gets N generated dossiers through the real loader, then the full
dbt build of the nightly DAG (seeds, models and data tests); then, on the
last of them, three nights follow each other, each loading its own delta
(0.5 % of N: new states of existing dossiers and new dossiers) and running
the incremental build, each after what a day gives the server (autovacuum
done, a checkpoint; untimed). It prints the median and the spread of the full
builds and of the nights, and their ratio: a goal must hold on every run,
not on a good day. ``--verify`` then rebuilds with ``--full-refresh`` and
checks that every marts table equals what the nights left.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

from motcua import config


def _admin_url() -> str:
    external = config.warehouse_url_setting()
    if external:
        return config.parse_pg_url(external).url("postgres")
    from motcua.warehouse.embedded import ensure_server

    return ensure_server().admin_url


def _fresh_db(admin_url: str, name: str) -> str:
    """A new empty database, after a checkpoint so neither side pays for the other's WAL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
        conn.execute("checkpoint")
    return config.parse_pg_url(admin_url).url(name)


def generate(rows: int, path: Path, vary: bool = False, provinces: int = 0) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "motcua_dev.generator",
            "bench",
            "--rows",
            str(rows),
            "--out",
            str(path),
            *(["--vary"] if vary else []),
            *(["--provinces", str(provinces)] if provinces else []),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _child(args: list[str]) -> dict:
    """Run a measured child; return its JSON report plus its peak RSS."""
    out = subprocess.run(
        [sys.executable, "-m", "motcua_dev.bench", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    report = json.loads(out.strip().splitlines()[-1])
    report["child_peak_rss_mb"] = report.pop("peak_rss_kb") / 1024
    return report


def _psql_copy(url: str, path: Path) -> dict:
    """Baseline: psql \\copy of the CSV into a plain text table of the same width."""
    from motcua.warehouse.embedded import pg_bin

    with path.open(encoding="utf-8-sig") as handle:
        width = len(handle.readline().split(","))
    cols = ", ".join(f"c{i} text" for i in range(width))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_text")
        conn.execute(f"create table bench_text ({cols})")
    psql = pg_bin("psql") if not config.warehouse_url_setting() else "psql"
    start = time.perf_counter()
    subprocess.run(
        [
            psql,
            url,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"\\copy bench_text from '{path}' with (format csv, header true)",
        ],
        check=True,
    )
    seconds = time.perf_counter() - start
    with psycopg.connect(url) as conn:
        rows = conn.execute("select count(*) from bench_text").fetchone()[0]  # type: ignore[index]
    return {"seconds": seconds, "rows": rows}


def _worker_load(url: str, path: Path) -> None:
    """Child process: one pipeline load of one file, reported as JSON."""
    from motcua.ingest import loader

    with psycopg.connect(url, autocommit=True) as conn:
        loader.ensure_raw_schema(conn)
        batch = loader.start_batch(conn, date.today(), None)
        start = time.perf_counter()
        outcome = loader.load_file(conn, batch, "onestop", path)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": outcome.rows_read,
                "status": outcome.status,
                "method": outcome.path_method,
                "peak_rss_kb": peak,
            }
        )
    )


REPEATS = 3  # loads; in build mode full builds and nights: a median and a spread


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main(rows: int, memory_rows: list[int] | None = None) -> None:
    admin = _admin_url()
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-", dir=config.local_dir()))
    print(f"Load benchmark: {rows:,} dossier rows, same server, same file, same run")
    csv_path = workdir / "hoso_bench.csv"
    gen_seconds = generate(rows, csv_path)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"  generated {csv_path.name}: {size_mb:,.1f} MB in {gen_seconds:.1f} s")

    base_times, pipe_times, method = [], [], ""
    for _ in range(REPEATS):  # alternate the two, keep the medians: this machine is shared
        baseline = _psql_copy(_fresh_db(admin, _db_name("psql")), csv_path)
        pipeline = _child(["--worker-load", _fresh_db(admin, _db_name("pipeline")), str(csv_path)])
        if (baseline["rows"], pipeline["rows"]) != (rows, rows):
            raise SystemExit(
                f"row counts differ: psql {baseline['rows']}, pipeline {pipeline['rows']}"
            )
        base_times.append(baseline["seconds"])
        pipe_times.append(pipeline["seconds"])
        method = pipeline["method"]
    base_s, pipe_s = statistics.median(base_times), statistics.median(pipe_times)
    print(
        f"  psql \\copy into a text table : {base_s:7.2f} s  {rows / base_s:12,.0f} rows/s"
        f"  (median of {_fmt(base_times)})"
    )
    print(
        f"  pipeline load (raw + lineage): {pipe_s:7.2f} s  {rows / pipe_s:12,.0f} rows/s"
        f"  (median of {_fmt(pipe_times)}) [{method}]"
    )
    print(f"  ratio pipeline / psql \\copy  : {base_s / pipe_s:.2f}  (goal >= 0.80)")

    sizes = memory_rows if memory_rows is not None else [1_000_000, 5_000_000]
    if sizes:
        print("Loader peak RSS by file size (child process, flat = streaming):")
    for n in sizes:
        path = csv_path if n == rows else workdir / f"hoso_mem_{n}.csv"
        if n != rows:
            generate(n, path)
        url = _fresh_db(admin, _db_name("memory"))
        report = _child(["--worker-load", url, str(path)])
        print(
            f"  {n:>11,} rows  {path.stat().st_size / 1e6:9,.1f} MB  peak RSS "
            f"{report['child_peak_rss_mb']:7.1f} MB  ({report['seconds']:.1f} s)"
        )
        if path != csv_path:
            path.unlink()
    csv_path.unlink()
    workdir.rmdir()


# --- build mode ---------------------------------------------------------------------------
BUILD_RUN_DATE = date(2017, 12, 29)  # horizon of the bench states (generator LAST_DAY)
NIGHT_RUN_DATE = date(2017, 12, 30)  # the first night: its delta's Cập nhật lúc


def _db_name(role: str) -> str:
    """The bench's own database on the server: prefixed with WAREHOUSE_URL's database.

    The machine's PostgreSQL may be shared: two benches (or a bench and a
    test) with fixed names would drop each other's databases.
    """
    external = config.warehouse_url_setting()
    prefix = config.parse_pg_url(external).dbname if external else "motcua"
    return f"{prefix}_bench_{role}"


def _generate_delta(base: Path, out: Path, fraction: float, night: int) -> None:
    """The ``night``-th next night's delta of ``base`` (its own day and seed)."""
    day = NIGHT_RUN_DATE + timedelta(days=night - 1)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "motcua_dev.generator",
            "bench",
            "--delta-of",
            str(base),
            "--fraction",
            str(fraction),
            "--seed",
            str(night),
            "--day",
            day.isoformat(),
            "--out",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _bench_files(
    data_dir: Path, rows: int, fraction: float, provinces: int = 0
) -> tuple[Path, Path, float]:
    """(base, the first night's delta, seconds) in ``data_dir``; existing files are reused."""
    base = data_dir / f"hoso_bench_{rows}{f'_p{provinces}' if provinces else ''}.csv"
    start = time.perf_counter()
    if not base.exists():
        generate(rows, base, vary=True, provinces=provinces)
    delta = _night_delta(data_dir, base, rows, fraction, 1)
    return base, delta, time.perf_counter() - start


def _night_delta(data_dir: Path, base: Path, rows: int, fraction: float, night: int) -> Path:
    """The ``night``-th night's delta of ``base`` in ``data_dir`` (reused when there)."""
    suffix = "" if night == 1 else f"_n{night}"
    spread = base.stem.removeprefix(f"hoso_bench_{rows}")  # "_p4" for a province spread
    delta = data_dir / f"hoso_delta_{rows}{spread}_{fraction:g}{suffix}.csv"
    if not delta.exists():
        _generate_delta(base, delta, fraction, night)
    return delta


def _load_batch(url: str, run_date: date, path: Path) -> tuple[float, int]:
    """Load one file as the night's batch with the pipeline's loader: (seconds, rows).

    The batch as a night's load task runs it, statistics after the load
    included (``loader.finish_batch``).
    """
    from motcua.ingest import loader

    with psycopg.connect(url, autocommit=True) as conn:
        loader.ensure_raw_schema(conn)
        start = time.perf_counter()
        batch = loader.start_batch(conn, run_date, path.parent)
        outcome = loader.load_file(conn, batch, "onestop", path)
        loader.finish_batch(conn, batch)
        seconds = time.perf_counter() - start
    if outcome.status != "loaded":
        raise SystemExit(f"{path.name}: {outcome.status} {outcome.error}")
    return seconds, outcome.rows_read


class _Dbt:
    """dbt as the nightly DAG runs it: the whole project, run_date in the environment."""

    def __init__(self, url: str, work: Path, label: str = "") -> None:
        self.env = config.apply_telemetry_off(dict(os.environ))
        self.env.update(config.dbt_env(url))
        self.work = work
        self.project = str(config.dbt_project_dir())
        self.label = label
        self.calls = 0

    def __call__(self, command: str, run_date: date, *extra: str) -> tuple[float, list[dict]]:
        """(wall seconds, run_results) of one dbt command; fails loudly."""
        cmd = [
            str(Path(sys.executable).parent / "dbt"),
            command,
            *extra,
            "--project-dir",
            self.project,
            "--profiles-dir",
            self.project,
            "--target-path",
            str(self.work / "target"),
            "--log-path",
            str(self.work / "logs"),
        ]
        env = {**self.env, config.RUN_DATE_ENV: run_date.isoformat()}
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"dbt {command} failed:\n{done.stdout[-5000:]}\n{done.stderr[-2000:]}")
        run_results = self.work / "target" / "run_results.json"
        self.calls += 1
        kept = f"run_results_{self.label}{self.calls}_{command}.json"
        shutil.copy(run_results, self.work / kept)  # for a look at each node's timing
        return seconds, json.loads(run_results.read_text())["results"]

    def build(self, run_date: date, *extra: str) -> dict:
        """One `dbt build` as the nightly runs it: seeds, models and data tests.

        Unit tests are left out (they check the rules on fixtures in CI, not the
        night's data). Timed as a whole; run_results gives the models' and
        the tests' own execution times (they overlap on dbt's two threads).
        """
        seconds, results = self("build", run_date, "--exclude-resource-type", "unit_test", *extra)
        models = [r for r in results if r["unique_id"].startswith("model.")]
        tests = [r for r in results if r["unique_id"].startswith("test.")]
        slowest = sorted(models, key=lambda r: -r["execution_time"])
        return {
            "seconds": seconds,
            "models": sum(r["execution_time"] for r in models),
            "tests": sum(r["execution_time"] for r in tests),
            "tests_run": len(tests),
            "slowest": [(r["unique_id"].split(".")[-1], r["execution_time"]) for r in slowest[:6]],
        }


# Columns that record when a row was computed or seen, not what it says: two
# warehouses built from the same files at other moments differ there only.
RUN_BOUND_COLUMNS = (("fct_dossier", "as_of_date"), ("fct_dossier", "last_arrival_at"))

MARTS_COLUMNS = """
select c.table_name, array_agg(c.column_name::text order by c.ordinal_position)
from information_schema.columns as c
inner join information_schema.tables as t
    on c.table_schema = t.table_schema and c.table_name = t.table_name
where c.table_schema = 'marts' and t.table_type = 'BASE TABLE'
    and not (c.table_name || '.' || c.column_name) = any(%(run_bound)s)
group by c.table_name order by c.table_name
"""


def marts_columns(conn: psycopg.Connection) -> list[tuple[str, list[str]]]:
    """(table, columns) of every table of schema marts, without RUN_BOUND_COLUMNS."""
    run_bound = [f"{table}.{column}" for table, column in RUN_BOUND_COLUMNS]
    return [(t, list(c)) for t, c in conn.execute(MARTS_COLUMNS, {"run_bound": run_bound})]


def marts_digest(url: str) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the rows in a canonical order) of every table of schema marts.

    All columns but RUN_BOUND_COLUMNS: fct_dossier.as_of_date records the run
    that last computed the row (a settled row keeps the date it was computed
    for), last_arrival_at when its file was loaded.
    """
    out = {}
    with psycopg.connect(url) as conn:
        conn.execute("set work_mem = '256MB'")
        for table, columns in marts_columns(conn):
            select = ", ".join(f'"{c}"' for c in columns)
            row = conn.execute(
                f"select count(*), coalesce(md5(string_agg(r, '|' order by r)), '')"
                f' from (select ({select})::text as r from marts."{table}") as t'
            ).fetchone()
            assert row is not None
            out[table] = (int(row[0]), str(row[1]))
    return out


def _slowest(report: dict, count: int = 4) -> str:
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in report["slowest"][:count])


def _spread(values: list[float]) -> str:
    """'median X s (min–max, ±h %)': h is half the range over the median."""
    mid = statistics.median(values)
    low, high = min(values), max(values)
    half = 50 * (high - low) / mid if mid else 0.0
    return f"median {mid:.1f} s ({low:.1f}–{high:.1f} s, ±{half:.1f} %)"


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def _full_build(admin: str, rows: int, base: Path, work: Path, attempt: int) -> tuple[str, dict]:
    """A fresh database, the base loaded, the full build: (url, build report)."""
    url = _fresh_db(admin, _db_name("build"))
    dbt = _Dbt(url, work / f"dbt_{rows}", f"full{attempt}_")
    load_s, loaded = _load_batch(url, BUILD_RUN_DATE, base)
    full = dbt.build(BUILD_RUN_DATE)
    full["load"] = load_s
    print(
        f"  full build {attempt}  load {loaded:,} rows {load_s:5.1f} s, build"
        f" {full['seconds']:6.1f} s  (models {full['models']:.1f} s, {full['tests_run']} data"
        f" tests {full['tests']:.1f} s; {_load_average()})",
        flush=True,
    )
    print(f"      slowest models: {_slowest(full)}", flush=True)
    return url, full


QUIET_TIMEOUT_S = 900


def _a_day_passes(url: str) -> str:
    """What a day between two runs gives the server: autovacuum done, a checkpoint.

    A warehouse's night starts hours after the last run; here it would start
    the second the full build (or the previous night) ended, with autovacuum
    still vacuuming the tables just built and gigabytes of dirty buffers
    still to write, work that belongs to the day, not to the night. Waits
    (up to QUIET_TIMEOUT_S) until no autovacuum worker is busy in the
    bench's database, then runs a CHECKPOINT; returns what it did, printed
    with the night (none of it is timed).
    """
    dbname = config.parse_pg_url(url).dbname
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        busy = (
            "select count(*) from pg_stat_activity"
            " where datname = %s and backend_type = 'autovacuum worker'"
        )
        while time.perf_counter() - start < QUIET_TIMEOUT_S:
            if conn.execute(busy, (dbname,)).fetchone() == (0,):
                break
            time.sleep(2)
        waited = time.perf_counter() - start
        conn.execute("checkpoint")
    checkpoint = time.perf_counter() - start - waited
    return f"autovacuum idle after {waited:.0f} s, checkpoint {checkpoint:.0f} s"


def _night(url: str, work: Path, rows: int, night: int, delta: Path) -> dict:
    """The ``night``-th next night: its delta loaded, then the incremental build."""
    run_date = NIGHT_RUN_DATE + timedelta(days=night - 1)
    print(f"  before night {night}: {_a_day_passes(url)}", flush=True)
    delta_s, delta_rows = _load_batch(url, run_date, delta)
    incr = _Dbt(url, work / f"dbt_{rows}", f"night{night}_").build(run_date)
    incr["load"] = delta_s
    print(
        f"  night {night}  {run_date}  load {delta_rows:,} rows {delta_s:4.1f} s, build"
        f" {incr['seconds']:5.1f} s  (models {incr['models']:.1f} s, {incr['tests_run']} data"
        f" tests {incr['tests']:.1f} s; {_load_average()})",
        flush=True,
    )
    print(f"      slowest models: {_slowest(incr)}", flush=True)
    return incr


def build_size(
    admin: str,
    rows: int,
    fraction: float,
    data_dir: Path,
    verify: bool,
    repeats: tuple[int, int] = (REPEATS, REPEATS),
    provinces: int = 0,
) -> dict:
    """``repeats`` = (full builds, each: fresh database, load, build; then nights).

    ``provinces``: the inbox spread over that many provinces of today's map
    (legacy communes of the national reference) instead of Ninh Hòa's 27.

    The nights follow each other on the last full build's warehouse, each
    with its own delta (0.5 % of the dossiers by default) and run date, as an
    operator's warehouse sees them: what one night leaves (dead rows, new
    files, statistics) is what the next one starts from.
    """
    full_builds, night_count = repeats
    start = time.perf_counter()
    base, first, _ = _bench_files(data_dir, rows, fraction, provinces)
    deltas = [first] + [
        _night_delta(data_dir, base, rows, fraction, n) for n in range(2, night_count + 1)
    ]
    gen_s = time.perf_counter() - start
    where = f"{provinces} provinces of today's map" if provinces else "Ninh Hòa's 27 communes"
    print(
        f"{rows:,} dossiers over {where} (files ready in {gen_s:.0f} s; {_load_average()})",
        flush=True,
    )
    fulls: list[dict] = []
    url = ""
    for attempt in range(1, full_builds + 1):
        url, full = _full_build(admin, rows, base, data_dir, attempt)
        fulls.append(full)
    nights = [_night(url, data_dir, rows, n, delta) for n, delta in enumerate(deltas, start=1)]
    full_s = [f["seconds"] for f in fulls]
    night_s = [n["seconds"] for n in nights]
    ratio = statistics.median(night_s) / statistics.median(full_s)
    print(f"  load        {_spread([f['load'] for f in fulls])}", flush=True)
    print(
        f"  full build  {_spread(full_s)}   (run_date {BUILD_RUN_DATE}; goal for 10M: <= 300 s)",
        flush=True,
    )
    print(f"  night       {_spread(night_s)}", flush=True)
    print(
        f"  ratio median night / median full build: {100 * ratio:.1f} %   (goal for 10M:"
        " <= 5 %; dbt's fixed start-up and per-node cost dominate small builds)",
        flush=True,
    )
    result = {"rows": rows, "provinces": provinces, "full": fulls, "nights": nights, "ratio": ratio}
    if verify:
        last_night = NIGHT_RUN_DATE + timedelta(days=night_count - 1)
        _verify(url, _Dbt(url, data_dir / f"dbt_{rows}"), last_night)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{_db_name("build")}" with (force)')
    return result


def _verify(url: str, dbt: _Dbt, run_date: date) -> None:
    """A --full-refresh of the same data must give every mart the nights left."""
    after_incremental = marts_digest(url)
    refresh_s, _ = dbt("build", run_date, "--full-refresh", "--exclude-resource-type",
                       "test", "unit_test")  # fmt: skip
    after_refresh = marts_digest(url)
    same = after_refresh == after_incremental
    differ = sorted(t for t in after_refresh if after_refresh[t] != after_incremental.get(t))
    print(
        f"  verify: --full-refresh on the same data ({refresh_s:.1f} s) gives"
        f" {'the same' if same else 'DIFFERENT (' + ', '.join(differ) + ')'} marts"
        f" ({len(after_incremental)} tables, {sum(n for n, _ in after_incremental.values()):,}"
        " rows)",
        flush=True,
    )
    if not same:
        raise SystemExit("incremental and full-refresh marts differ")


def build_main(
    sizes: list[int],
    fraction: float,
    data_dir: Path | None,
    verify: bool,
    repeats: tuple[int, int] = (REPEATS, REPEATS),
    provinces: int = 0,
) -> None:
    admin = _admin_url()
    keep = data_dir is not None
    work = data_dir or Path(tempfile.mkdtemp(prefix="motcua-bench-", dir=config.local_dir()))
    work = work.resolve()  # dbt takes a relative --target-path from the project directory
    work.mkdir(parents=True, exist_ok=True)
    server = "WAREHOUSE_URL's server" if config.warehouse_url_setting() else "embedded server"
    print(
        f"Build benchmark ({server}, {os.cpu_count()} CPUs, {date.today()}): {repeats[0]} full"
        f" dbt build(s), each on a fresh database, then {repeats[1]} nights, each a"
        f" {100 * fraction:g} % delta and the incremental build"
    )
    try:
        for rows in sizes:
            build_size(admin, rows, fraction, work, verify, repeats, provinces)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker-load", nargs=2, metavar=("URL", "FILE"))
    ns = parser.parse_args()
    _worker_load(ns.worker_load[0], Path(ns.worker_load[1]))
