"""``make bench``: the loader's COPY throughput against plain ``psql \\copy``.

Both load the same generated CSV into the same server in the same run, so
the ratio is meaningful on any machine. Each load runs in a fresh child
process, whose peak RSS we read, to show that the loader's memory stays
flat as the file grows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg

from motcua import config


def _admin_url() -> str:
    external = os.environ.get("WAREHOUSE_URL")
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


def generate(rows: int, path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "motcua.generator",
            "bench",
            "--rows",
            str(rows),
            "--out",
            str(path),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _child(args: list[str]) -> dict:
    """Run a measured child; return its JSON report plus its peak RSS."""
    out = subprocess.run(
        [sys.executable, "-m", "motcua.bench", *args], check=True, capture_output=True, text=True
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
    psql = pg_bin("psql") if not os.environ.get("WAREHOUSE_URL") else "psql"
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


REPEATS = 3


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
        baseline = _psql_copy(_fresh_db(admin, "motcua_bench_psql"), csv_path)
        pipeline = _child(
            ["--worker-load", _fresh_db(admin, "motcua_bench_pipeline"), str(csv_path)]
        )
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
        url = _fresh_db(admin, "motcua_bench_memory")
        report = _child(["--worker-load", url, str(path)])
        print(
            f"  {n:>11,} rows  {path.stat().st_size / 1e6:9,.1f} MB  peak RSS "
            f"{report['child_peak_rss_mb']:7.1f} MB  ({report['seconds']:.1f} s)"
        )
        if path != csv_path:
            path.unlink()
    csv_path.unlink()
    workdir.rmdir()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker-load", nargs=2, metavar=("URL", "FILE"))
    ns = parser.parse_args()
    _worker_load(ns.worker_load[0], Path(ns.worker_load[1]))
