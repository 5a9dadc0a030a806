"""``make bench-nightly``: the nightly DAG through Airflow against the same steps called directly.

Both sides get a fresh warehouse on the same server and a copy of the same
inbox, in the same run, one after the other:

- *airflow*: ``motcua.runner.run_pipeline``, what ``make run`` executes
  (``dbt parse``, ``airflow db migrate``, then ``airflow dags test`` of the
  nightly DAG); the DAG run itself is the ``airflow dags test`` step, the
  set-up steps are printed apart;
- *direct*: one Python process calling the bodies of the DAG's tasks in the
  DAG's order (roles, loader, ``dbt build`` of each task group with the
  group's own selection, the blocking checks, the grants, the contact
  checks, the alert, the summary), dbt from its command line.

The ratio of the two DAG-run times is Airflow's price for the nightly:
scheduling, task start-ups, the per-model tasks of the dbt groups. With
``--dossiers N`` the inbox is a generated one of N dossiers (the build
benchmark's files) and the following night (its 0.5 % delta) is timed too,
with Airflow's fixed cost in seconds. The DAG log gives where Airflow's time
went (start-up before the first task, the dbt producers, the per-model tasks).

Also printed: the DAG files' parse time beyond the bare ``import airflow.sdk``
(cold, in fresh processes; median of three), what the dag-processor pays for
our files on top of Airflow's own import.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from motcua import config
from motcua.orchestration.dbt_group import BUILD_ENV

# the direct side's dbt target directory: its partial parse is its own, as the
# Airflow side's is (the project's target/, which `make run`'s `dbt parse` writes)
# the direct side's dbt target directory, set by main() for the run
_direct_target: list[Path] = []
SET_UP = "set-up (dbt parse, airflow db migrate)"  # motcua.runner.run_pipeline's step


@dataclass(frozen=True)
class Night:
    """One night to time on both sides: its inbox (copied for each side) and run date."""

    label: str
    inbox: Path
    run_date: date


# --- the direct side ----------------------------------------------------------------------


def _dbt(url: str, run_date: date, command: str, *args: str) -> None:
    """dbt from its command line, into this side's own target directory (set by :func:`main`)."""
    project = str(config.dbt_project_dir())
    env = config.apply_telemetry_off(dict(os.environ))
    env.update(config.dbt_env(url))
    env.update(BUILD_ENV)  # as in the DAG's dbt tasks: no unit tests at night
    env[config.RUN_DATE_ENV] = run_date.isoformat()
    cmd = [str(Path(sys.executable).parent / "dbt"), command, *args]
    cmd += ["--project-dir", project, "--profiles-dir", project]
    cmd += ["--target-path", str(_direct_target[-1])]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"dbt {command} {' '.join(args)} failed:\n{done.stdout[-4000:]}")


def _dbt_build(url: str, run_date: date, selection: list[str]) -> None:
    """``dbt build`` of one task group's selection, as its producer runs it."""
    _dbt(url, run_date, "build", *selection)


def direct_night(url: str, inbox: Path, run_date: date) -> dict[str, float]:
    """The nightly DAG's task bodies in the DAG's order, without Airflow: seconds per step."""
    from motcua import pipeline, summary
    from motcua.alerts import alert_quality
    from motcua.orchestration.dbt_group import PREPARE_EXCLUDE as PREPARE
    from motcua.orchestration.dbt_group import PUBLISH_SELECT as PUBLISH
    from motcua.orchestration.nightly import batch_ids
    from motcua.quality.run import merge_summaries, run_checks

    times: dict[str, float] = {}
    results: dict[str, Any] = {}

    def alert() -> dict[str, Any]:
        both = merge_summaries(results["check_pipeline"], results["check_contacts"])
        return alert_quality(both, run_date)

    def summarise() -> None:
        loads = batch_ids([results["load_inbox"]])
        summary.store(url, summary.collect(url, run_date, results["alert"], loads))

    steps = [
        ("prepare_access", lambda: pipeline.prepare_access(url)),
        ("load_inbox", lambda: pipeline.ingest_inbox(url, inbox, run_date)),
        ("transform: dbt build", lambda: _dbt_build(url, run_date, ["--exclude", *PREPARE])),
        ("check_pipeline", lambda: run_checks(url, run_date, scope="pipeline")),
        ("publish: dbt build", lambda: _dbt_build(url, run_date, ["--select", *PUBLISH])),
        ("secure_marts", lambda: pipeline.secure_marts(url)),
        ("check_contacts", lambda: run_checks(url, run_date, scope="contacts")),
        ("alert", alert),
        ("summarise", summarise),
    ]
    for name, call in steps:
        start = time.perf_counter()
        results[name] = call()
        times[name] = time.perf_counter() - start
    return times


def _direct_child(url: str, inbox: Path, run_date: date) -> tuple[float, dict[str, float]]:
    """(wall seconds of the whole process, its steps): a fresh interpreter, like Airflow's."""
    # set-up, untimed like make run's: `dbt parse` for this warehouse
    _dbt(url, run_date, "parse")
    cmd = [sys.executable, "-m", "motcua_dev.bench_nightly", "--direct", url, str(inbox)]
    cmd += [run_date.isoformat(), str(_direct_target[-1])]  # the child's own dbt target
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"direct night failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


# --- the Airflow side ---------------------------------------------------------------------

_TASK_LINE = re.compile(r"^(\S+Z) .*\[DAG TEST\] (starting|end task) task_id=(\S+) map_index")


def dag_timeline(log: Path) -> dict[str, float]:
    """Where ``airflow dags test``'s time went, from its log (seconds).

    ``before first task``: process start, DAG parse, DAG run creation;
    ``dbt producers``: the groups' ``dbt build``; ``model tasks``: the per-model
    and per-test tasks reporting the producers' outcomes; ``python tasks``: the
    rest; ``between tasks``: Airflow's scheduling loop.
    """
    stamps: list[tuple[datetime, str, str]] = []
    first = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if first is None and line[:4].isdigit():
            first = datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
        match = _TASK_LINE.match(line)
        if match:
            when = datetime.fromisoformat(match[1].replace("Z", "+00:00"))
            stamps.append((when, match[2], match[3]))
    out = {"before first task": 0.0, "dbt producers": 0.0, "model tasks": 0.0, "python tasks": 0.0}
    if not stamps or first is None:
        return out
    out["before first task"] = (stamps[0][0] - first).total_seconds()
    started: dict[str, datetime] = {}
    busy = 0.0
    for when, kind, task_id in stamps:
        if kind == "starting":
            started[task_id] = when
            continue
        seconds = (when - started.pop(task_id, when)).total_seconds()
        busy += seconds
        if task_id.endswith("dbt_producer_watcher"):
            out["dbt producers"] += seconds
        elif "." in task_id:
            out["model tasks"] += seconds
        else:
            out["python tasks"] += seconds
    out["between tasks"] = (stamps[-1][0] - stamps[0][0]).total_seconds() - busy
    out["tasks"] = float(sum(1 for _, kind, _ in stamps if kind != "starting"))
    return out


def _airflow_night(
    url: str, airflow_db: str, night: Night, home: Path
) -> tuple[dict[str, float], Path]:
    """``make run``'s steps on ``night``: their times and the run's log directory."""
    from motcua import runner

    settings = runner.RunSettings(
        warehouse_url=url,
        airflow_db_url=config.parse_pg_url(airflow_db).url(driver="postgresql+psycopg2"),
        inbox=night.inbox,
        run_date=night.run_date,
        sample=False,
    )
    times: dict[str, float] = {}
    logs = runner.run_pipeline(settings, airflow_home=home, timings=times)
    return times, logs


# --- the comparison -----------------------------------------------------------------------


def _copy_inbox(source: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("archive", "rejected"))
    return dest


def _fmt_steps(times: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in times.items())


def compare(nights: list[Night], work: Path) -> list[dict[str, float]]:
    """Each night on both sides (fresh warehouses, night after night); print and return."""
    from motcua_dev.bench import _admin_url, _fresh_db

    admin = _admin_url()
    af_url = _fresh_db(admin, "motcua_bench_nightly_af")
    af_meta = _fresh_db(admin, "motcua_bench_nightly_af_meta")
    direct_url = _fresh_db(admin, "motcua_bench_nightly_direct")
    results = []
    for night in nights:
        airflow_inbox = _copy_inbox(night.inbox, work / f"inbox_airflow_{night.label}")
        direct_inbox = _copy_inbox(night.inbox, work / f"inbox_direct_{night.label}")
        times, logs = _airflow_night(
            af_url, af_meta, Night(night.label, airflow_inbox, night.run_date), work / "airflow"
        )
        direct_s, steps = _direct_child(direct_url, direct_inbox, night.run_date)
        dag_s = times["airflow dags test"]
        timeline = dag_timeline(logs / "nightly_dag.log")
        print(f"  {night.label} (run date {night.run_date})", flush=True)
        print(
            f"    airflow: DAG run {dag_s:7.1f} s  (airflow dags test; make run's set-up before"
            f" it, dbt parse and airflow db migrate at once: {times[SET_UP]:.1f} s)"
        )
        print(
            f"      in the DAG log: {timeline.get('tasks', 0):.0f} tasks; before the first task"
            f" {timeline['before first task']:.1f} s, dbt producers"
            f" {timeline['dbt producers']:.1f} s, per-model tasks {timeline['model tasks']:.1f} s,"
            f" python tasks {timeline['python tasks']:.1f} s, between tasks"
            f" {timeline.get('between tasks', 0):.1f} s"
        )
        print(f"    direct:  {direct_s:7.1f} s  ({_fmt_steps(steps)})")
        print(
            f"    Airflow's fixed cost: {dag_s - direct_s:.1f} s;"
            f" airflow / direct {dag_s / direct_s:.2f}",
            flush=True,
        )
        results.append({"airflow": dag_s, "direct": direct_s, **times})
    with __import__("psycopg").connect(admin, autocommit=True) as conn:
        for name in ("motcua_bench_nightly_af", "motcua_bench_nightly_af_meta",
                     "motcua_bench_nightly_direct"):  # fmt: skip
            conn.execute(f'drop database if exists "{name}" with (force)')
    return results


# --- parse time ---------------------------------------------------------------------------

_PARSE_CHILD = """
import runpy, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
for path in sys.argv[1:]:
    runpy.run_path(path)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def parse_overhead(repeats: int = 3) -> tuple[float, float]:
    """(median bare ``import airflow.sdk``, median parse of our DAG files after it), seconds."""
    dags = sorted(str(p) for p in (config.repo_root() / "dags").glob("*.py"))
    env = config.apply_telemetry_off(dict(os.environ))
    env.setdefault("AIRFLOW_HOME", str(config.local_dir() / "airflow"))
    bare, ours = [], []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _PARSE_CHILD, *dags],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        sdk_s, dags_s = (float(v) for v in out.strip().splitlines()[-1].split())
        bare.append(sdk_s)
        ours.append(dags_s)
    return statistics.median(bare), statistics.median(ours)


def print_parse_overhead() -> float:
    bare, ours = parse_overhead()
    ratio = ours / bare
    print(
        f"DAG parse: import airflow.sdk {bare:.2f} s, then our DAG files {ours:.2f} s"
        f" (cold, median of 3): parse overhead {ratio:.2f} x the bare import"
    )
    return ratio


# --- the nights ---------------------------------------------------------------------------


def sample_nights(work: Path) -> list[Night]:
    """The sample inbox (the letter's story), generated afresh."""
    from motcua_dev.generator import write_sample

    inbox = work / "sample_inbox"
    manifest = write_sample(inbox)
    return [Night("sample, first run", inbox, config.parse_run_date(manifest["run_date"]))]


def generated_nights(work: Path, dossiers: int, fraction: float) -> list[Night]:
    """N generated dossiers (the build benchmark's files), then the next night's delta."""
    from motcua_dev.bench import BUILD_RUN_DATE, NIGHT_RUN_DATE, _bench_files

    base, delta, _ = _bench_files(work, dossiers, fraction)
    nights = []
    for label, path, run_date in (
        (f"{dossiers:,} dossiers, first run", base, BUILD_RUN_DATE),
        (f"{dossiers:,} dossiers, following night", delta, NIGHT_RUN_DATE),
    ):
        inbox = work / f"inbox_{path.stem}"
        (inbox / "onestop").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, inbox / "onestop" / path.name)
        nights.append(Night(label, inbox, run_date))
    return nights


def main(dossiers: list[int], fraction: float = 0.005) -> None:
    """Print the comparison for the sample (and each ``dossiers``), then the parse overhead."""
    config.local_dir().mkdir(parents=True, exist_ok=True)  # a fresh clone has no .local/ yet
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-nightly-", dir=config.local_dir()))
    os.environ["DQ_ALERT_OUTBOX"] = str(work / "outbox")  # both sides write their alert there
    _direct_target.append(work / "direct_target")
    print(
        "Nightly benchmark: the nightly DAG through Airflow (as make run runs it) against"
        f" the same steps called directly ({os.cpu_count()} CPUs)",
        flush=True,
    )
    try:
        first = compare(sample_nights(work), work)[0]
        for n in dossiers:
            compare(generated_nights(work, n, fraction), work)
        print_parse_overhead()
        print(f"airflow / direct ratio: {first['airflow'] / first['direct']:.2f}  (goal <= 1.30)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--direct"]:
        url, inbox, day, target = sys.argv[2:6]
        _direct_target.append(Path(target))
        print(json.dumps(direct_night(url, Path(inbox), config.parse_run_date(day))))
    else:
        main([int(n) for n in sys.argv[1:]])
