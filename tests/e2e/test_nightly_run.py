"""One end-to-end run of the nightly DAG through Airflow on a small generated inbox.

The generator pins, by construction, how many dossiers of each commune fall
in each outcome class and how each survey question was answered; the marts
must reproduce every figure it states, to the last digit. A second run on the
same (now archived) inbox, through the deployment's Celery stack, must load
nothing and leave the marts unchanged (the runs: tests/e2e/conftest.py).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from motcua.config import parse_pg_url
from tests.alerts.conftest import RECIPIENTS, SENDER
from tests.e2e.conftest import MARTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(nightly_runs: dict[str, Any]) -> dict[str, Any]:
    """The package's two runs: ``make run``'s, then the Celery stack's (tests/e2e/conftest.py)."""
    return nightly_runs


def _rows(url: str, query: str, params: tuple = ()) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return [dict(r) for r in cur.fetchall()]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


def test_every_file_was_loaded_archived_and_reconciled(run: dict[str, Any]) -> None:
    manifest = run["manifest"]
    files = {Path(f["path"]).name: f for f in manifest["files"]}
    got = _rows(
        run["url"],
        "select f.file_name, f.status, r.rows_read, r.rows_loaded, r.rows_quarantined"
        " from raw.load_files as f join ops.file_reconciliation as r using (file_id)",
    )
    assert {g["file_name"] for g in got} | _duplicates(run) == set(files)
    for g in got:
        expected = files[g["file_name"]]
        assert (g["status"], g["rows_read"], g["rows_quarantined"]) == (
            "loaded",
            expected["rows"],
            expected["quarantine_rows"],
        ), g["file_name"]
        assert g["rows_read"] == g["rows_loaded"] + g["rows_quarantined"]
    pending = [p for sub in ("onestop", "survey") for p in (run["inbox"] / sub).iterdir()]
    assert pending == []
    archived = {p.name for p in (run["inbox"] / "archive").rglob("*") if p.is_file()}
    assert archived == set(files)


def _duplicates(run: dict[str, Any]) -> set[str]:
    """Files whose bytes equal an earlier file's (header-only holiday nights)."""
    seen: dict[str, str] = {}
    dups = set()
    for f in sorted(run["manifest"]["files"], key=lambda f: (f["source"], Path(f["path"]).name)):
        key = f"{f['source']}:{f['sha256']}"
        if key in seen:
            dups.add(Path(f["path"]).name)
        seen.setdefault(key, f["path"])
    return dups


def test_pinned_lateness_figures_are_exact(run: dict[str, Any]) -> None:
    expected = run["manifest"]["expected"]["commune_lateness"]
    assert len(expected) == 4
    for pin in expected:
        (row,) = _rows(
            run["url"],
            "select * from marts.commune_lateness where commune_code = %s and period_type = %s"
            " and period_start = %s",
            (pin["commune_code"], pin["period_type"], pin["period_start"]),
        )
        for column, value in pin.items():
            if column in {"contact", "cutoff"}:
                continue
            assert _plain(row[column]) == value, (pin["commune_name"], column)


def test_threshold_flags_exactly_the_communes_meant(run: dict[str, Any]) -> None:
    """Q1 2017 pins: 16.00 % is flagged, exactly 10.00 % and 0.00 % are not."""
    flags = _rows(
        run["url"],
        "select commune_name, late_rate, over_threshold from marts.commune_lateness"
        " where period_type = 'quarter' and period_start = '2017-01-01'"
        " and commune_code in ('22534', '22570', '22597') order by commune_code",
    )
    assert [(r["commune_name"], float(r["late_rate"]), r["over_threshold"]) for r in flags] == [
        ("Xã Ninh Tây", 16.0, True),
        ("Phường Ninh Đa", 10.0, False),
        ("Xã Ninh Hưng", 0.0, False),
    ]


@pytest.mark.parametrize(
    ("mart", "key"),
    [
        ("commune_lateness", "commune_received"),
        ("commune_contact_completeness", "commune_contact_completeness"),
    ],
)
def test_every_period_figure_matches(run: dict[str, Any], mart: str, key: str) -> None:
    expected = run["manifest"]["expected"][key]
    assert expected
    got = {
        (r["commune_code"], r["period_type"], _plain(r["period_start"])): r
        for r in _rows(run["url"], f"select * from marts.{mart}")
    }
    for exp in expected:
        row = got[(exp["commune_code"], exp["period_type"], exp["period_start"])]
        assert {c: _plain(row[c]) for c in exp} == exp


@pytest.mark.parametrize("level", ["commune", "district"])
def test_satisfaction_cells_match(run: dict[str, Any], level: str) -> None:
    expected = run["manifest"]["expected"][f"{level}_satisfaction"]
    assert expected
    code = f"{level}_code"
    got = {
        (r[code], r["survey_year"], r["agency_type"]): r
        for r in _rows(run["url"], f"select * from marts.{level}_satisfaction")
    }
    skip = {"satisfaction_index_exact", "answer_counts", "pinned", "communes_by_rating", "communes"}
    for exp in expected:
        row = got[(exp[code], exp["survey_year"], exp["agency_type"])]
        for column, value in exp.items():
            if column not in skip:
                assert _plain(row[column]) == value, (exp[code], exp["survey_year"], column)


def test_a_second_run_changes_nothing_in_the_marts(run: dict[str, Any]) -> None:
    assert run["first"] == run["second"]
    assert all(
        count > 0 for name, (count, _) in run["first"].items() if name != "dossiers_due_soon"
    )


def test_no_personal_data_reaches_the_marts(run: dict[str, Any]) -> None:
    columns = _rows(
        run["url"],
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'marts'",
    )
    names = {c["column_name"] for c in columns}
    assert not names & {"applicant_name", "address", "phone", "email", "comment"}
    samples = _rows(
        run["url"],
        "select distinct v from (select address as v from raw.onestop_rows union all"
        " select phone from raw.onestop_rows union all select email from raw.onestop_rows"
        " union all select applicant_name from raw.onestop_rows) s"
        " where length(v) > 6 limit 200",
    )
    dumped = json.dumps(
        [_rows(run["url"], f"select * from marts.{m}") for m in MARTS],
        default=str,
        ensure_ascii=False,
    )
    leaked = [s["v"] for s in samples if s["v"] in dumped]
    assert leaked == []


def test_the_summary_accounts_for_every_row(run: dict[str, Any]) -> None:
    from motcua import summary

    totals = run["manifest"]["totals"]
    stored = run["summaries"][0]
    assert stored["run_date"] == run["manifest"]["run_date"]
    by_source = {s["source"]: s for s in stored["sources"]}
    for source in ("onestop", "survey"):
        got = by_source[source]
        assert (got["rows_read"], got["rows_quarantined"], got["files_rejected"]) == (
            totals[source]["rows"],
            totals[source]["quarantine_rows"],
            0,
        )
        assert got["files_loaded"] + got["files_duplicate"] == totals[source]["files"]
    text = summary.render(stored)
    onestop = by_source["onestop"]
    assert (
        f"rows read {onestop['rows_read']} = loaded {onestop['rows_loaded']} + quarantined "
        f"{onestop['rows_quarantined']}"
    ) in text
    assert "DOES NOT RECONCILE" not in text


def test_one_alert_mail_per_run_names_the_communes_that_fall_short(run: dict[str, Any]) -> None:
    import re

    assert (run["mails_after_first"], len(run["mails"])) == (1, 2)
    mail = run["mails"][-1]
    assert (mail.mail_from, mail.rcpt_tos) == (SENDER, RECIPIENTS)
    message = mail.message
    day = run["manifest"]["run_date"]
    assert message["Subject"].startswith(
        f"[Một cửa Analytics] Cảnh báo chất lượng dữ liệu — {day}: "
    )
    parts = mail.parts()
    assert set(parts) == {"text/plain", "text/html"}
    latest = _rows(
        run["url"],
        "select distinct commune_code from dq.validation_results where not success"
        " and commune_code is not null and run_id = (select run_id from dq.validation_results"
        " where suite = 'contact_completeness' order by checked_at desc, result_id desc limit 1)",
    )
    failing = {r["commune_code"] for r in latest}
    assert failing, "the small inbox has contact shortfalls by construction"
    assert set(re.findall(r"\(mã (\d{5})\)", parts["text/plain"])) == failing
    assert f"{len(failing)} xã/phường chưa đạt" in message["Subject"]
    samples = _rows(
        run["url"],
        "select distinct v from (select phone as v from raw.onestop_rows union all"
        " select email from raw.onestop_rows union all select address from raw.onestop_rows) s"
        # a citizen's value: a phone number, a whole e-mail address, an address
        r" where regexp_replace(v, '\D', '', 'g') ~ '^\d{9,}$' or v ~ '^[^@\s]+@[^@\s]+$'"
        " or length(v) > 12",
    )
    assert len(samples) > 100
    raw_mail = mail.raw.decode("utf-8", errors="replace") + parts["text/plain"] + parts["text/html"]
    assert [s["v"] for s in samples if s["v"] in raw_mail] == []


def test_a_run_that_loaded_nothing_says_so(run: dict[str, Any]) -> None:
    """The second run found the inbox archived: its summary counts its own work, zero
    files and rows, not the warehouse's history; the marts' figures are the same."""
    from motcua import summary

    first, second = run["summaries"]
    assert len(second["batch_ids"]) == 1 and second["batch_ids"] != first["batch_ids"]
    assert {s["source"]: s for s in second["sources"]} == {
        source: {
            "source": source,
            "files_loaded": 0,
            "files_duplicate": 0,
            "files_rejected": 0,
            "rows_read": 0,
            "rows_loaded": 0,
            "rows_quarantined": 0,
        }
        for source in ("onestop", "survey")
    }
    marts_figures = ("half_year", "over_threshold", "town_satisfaction", "low_rated", "contact")
    assert {k: second[k] for k in marts_figures} == {k: first[k] for k in marts_figures}
    assert first["over_threshold"] and first["town_satisfaction"]
    text = summary.render(second)
    assert "onestop  files loaded 0, duplicate 0, rejected 0; rows read 0 = loaded 0" in text


def test_the_run_keeps_its_logs_and_no_secret_in_any(run: dict[str, Any]) -> None:
    logs = run["logs"]
    base = run["airflow_home"] / "run-logs"
    assert logs.parent == base
    names = {"dbt_parse.log", "airflow_db_migrate.log", "nightly_dag.log"}
    assert {p.name for p in logs.iterdir()} == names
    dag_log = (logs / "nightly_dag.log").read_text(encoding="utf-8", errors="replace")
    assert "DagRun Finished: dag_id=motcua_nightly" in dag_log and "state=success" in dag_log
    assert (base / "latest").resolve() == logs.resolve()
    password = parse_pg_url(run["url"]).password
    if password:  # the server's secret is in every URL the runs used, never in what they wrote
        written = [p for p in run["airflow_home"].parent.rglob("*") if p.is_file()]
        assert {p for p in written if p.suffix == ".log"} >= {logs / name for name in names}
        leaked = [str(p) for p in written if password.encode() in p.read_bytes()]
        assert leaked == []
