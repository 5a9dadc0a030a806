"""run_checks against a real PostgreSQL: known bad rows give exact findings."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from motcua import config
from motcua.quality import QualityGateError, QualitySettings, load_settings, run_checks, store
from motcua.quality import gx_project as gxp

from .conftest import PERSONAL, RUN_DATE, A, B, C, contact_dossiers

CONTACT_RESULTS_PER_RUN = 5 * 3  # batches (A, B last 7 days; A, B, C month) x 3 fields
# files, quarantine, current, valid rows (3 + the optional 766 columns), survey, 766 progress
PIPELINE_RESULTS_PER_RUN = 2 + 1 + 5 + 4 + 5 + 1
RESULTS_PER_RUN = CONTACT_RESULTS_PER_RUN + PIPELINE_RESULTS_PER_RUN

DEFAULTS = QualitySettings()


def _run(url: str, project: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("settings", DEFAULTS)
    return run_checks(url, RUN_DATE, project_dir=project, **kwargs)


def _rows(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _findings(summary: dict[str, Any], commune: str) -> list[dict[str, Any]]:
    for entry in summary["communes"]:
        if entry["commune_code"] == commune:
            return entry["findings"]
    return []


# --- contact suites ------------------------------------------------------------------------------


def test_contact_shortfall_names_the_commune_and_its_dossiers(warehouse: str, gx_project: Path):
    summary = _run(warehouse, gx_project)

    assert summary["success"] is False
    assert summary["blocking_failed"] is False
    assert [c["commune_code"] for c in summary["communes"]] == [A, C]

    a = _findings(summary, A)
    assert a == [
        {
            "suite": "contact_completeness",
            "check": "phone_valid",
            "severity": "warn",
            "window": window,
            "period_start": start,
            "period_end": "2017-07-14",
            "observed": 0.7,
            "required": 0.9,
            "dossiers": 10,
            "affected": 3,
            "dossier_codes": ["HS-A-03", "HS-A-07", "HS-A-09"],
            "error": None,
        }
        for window, start in [("last_7_days", "2017-07-08"), ("month_to_date", "2017-07-01")]
    ]
    assert summary["communes"][0]["commune_name"] == "Phường Ninh Hiệp"
    assert _findings(summary, B) == []


def test_month_window_catches_what_the_last_7_days_miss(warehouse: str, gx_project: Path):
    summary = _run(warehouse, gx_project)

    (finding,) = _findings(summary, C)
    assert finding["check"] == "email_valid"
    assert finding["window"] == "month_to_date"
    assert (finding["observed"], finding["required"]) == (0.2, 0.6)
    assert finding["dossiers"] == 5  # the June dossier is outside the window
    assert finding["affected"] == 4
    assert finding["dossier_codes"] == ["HS-C-01", "HS-C-02", "HS-C-03", "HS-C-04"]


def test_contact_results_stored_per_commune_and_window(warehouse: str, gx_project: Path):
    summary = _run(warehouse, gx_project)

    rows = _rows(
        warehouse,
        "select window_name, period_start::text, period_end::text, commune_code, check_name,"
        " severity, element_count, unexpected_count, affected_count, observed_value, threshold,"
        " success, failing_key, failing_codes from dq.validation_results"
        " where run_id = %s and suite = 'contact_completeness' and commune_code = %s"
        " and window_name = 'last_7_days' order by check_name",
        (summary["run_id"], A),
    )
    assert rows == [
        ("last_7_days", "2017-07-08", "2017-07-14", A, "address_present", "warn",
         10, 0, 0, Decimal("1"), Decimal("0.95"), True, None, []),
        ("last_7_days", "2017-07-08", "2017-07-14", A, "email_valid", "warn",
         10, 0, 0, Decimal("1"), Decimal("0.6"), True, None, []),
        ("last_7_days", "2017-07-08", "2017-07-14", A, "phone_valid", "warn",
         10, 3, 3, Decimal("0.7"), Decimal("0.9"), False, "dossier_code",
         ["HS-A-03", "HS-A-07", "HS-A-09"]),
    ]  # fmt: skip
    communes = _rows(
        warehouse,
        "select window_name, array_agg(distinct commune_code order by commune_code)"
        " from dq.validation_results where run_id = %s and suite = 'contact_completeness'"
        " group by window_name order by window_name",
        (summary["run_id"],),
    )
    assert communes == [("last_7_days", [A, B]), ("month_to_date", [A, B, C])]


def test_thresholds_and_window_are_parameters(warehouse: str, gx_project: Path):
    lenient = QualitySettings(
        contact_mostly={"address_present": 0.95, "phone_valid": 0.7, "email_valid": 0.2}
    )
    summary = _run(warehouse, gx_project, settings=lenient)
    assert summary["communes"] == []  # 0.70 >= 0.70 and 0.20 >= 0.20: `mostly` is inclusive

    # A 3-day window (12..14 July) holds only commune B's dossiers.
    summary = _run(warehouse, gx_project, recent_days=3)
    assert summary["windows"][0] == {
        "window": "last_3_days",
        "period_start": "2017-07-12",
        "period_end": "2017-07-14",
    }
    recent = {(c["commune_code"], f["window"]) for c in summary["communes"] for f in c["findings"]}
    assert recent == {(A, "month_to_date"), (C, "month_to_date")}


def _contact_rows_left(url: str) -> list[tuple[Any, ...]]:
    """What the runs staged and did not release: (table, rows)."""
    return _rows(
        url,
        "select 'contact_dossiers', count(*) from dq.contact_dossiers",
    )


NO_ROWS_LEFT = [("contact_dossiers", 0)]
FLAGS = {"address_present": 3, "phone_valid": 4, "email_valid": 5}  # in contact_dossiers()


def _expected_contact_results(
    dossiers: list[tuple[Any, ...]], settings: QualitySettings
) -> list[tuple[Any, ...]]:
    """Every contact result the per-dossier flags imply, worked out here without GX or SQL.

    One batch per window and commune with a dossier received in it (a missing
    commune is '(none)', a missing flag counts as false); per flag: dossiers,
    failing dossiers, share passing, the setting, success, the first codes.
    """
    expected = []
    for window in settings.windows(RUN_DATE):
        inside = [d for d in dossiers if window.start <= d[2] <= window.end]
        for commune in sorted({d[1] or "(none)" for d in inside}):
            batch = [d for d in inside if (d[1] or "(none)") == commune]
            for check, index in sorted(FLAGS.items()):
                failing = sorted(d[0] for d in batch if not d[index])
                share = Decimal(str(round(1 - len(failing) / len(batch), 4)))
                mostly = Decimal(str(settings.contact_mostly[check]))
                expected.append(
                    (window.name, commune, check, len(batch), len(failing), len(failing),
                     share, mostly, share >= mostly, "dossier_code" if failing else None,
                     failing[: settings.max_codes])
                )  # fmt: skip
    return expected


def test_contact_results_are_what_the_dossier_flags_imply(warehouse: str, gx_project: Path):
    """Every batch and every number, for dossiers with and without a commune or flags."""
    extra = [
        ("HS-X-01", None, RUN_DATE, None, None, None),
        ("HS-X-02", None, RUN_DATE.replace(day=2), True, None, True),
        ("HS-B-07", B, RUN_DATE.replace(day=13), None, True, False),
        # more failing dossiers in one batch than GX lists (its index list stops at 20):
        # affected counts them all, failing_codes keeps max_codes of those listed
        *(
            (f"HS-B-{n:02d}", B, RUN_DATE.replace(day=12), False, False, True)
            for n in range(20, 45)
        ),
    ]
    with psycopg.connect(warehouse, autocommit=True) as conn:
        for code, commune, received, *flags in extra:
            conn.execute(
                "insert into marts.fct_dossier (dossier_code, commune_code, status,"
                " received_date, due_date, address_present, phone_valid, email_valid)"
                " values (%s, %s, 'Đã tiếp nhận', %s, %s, %s, %s, %s)",
                (code, commune, received, received, *flags),
            )
    settings = dataclasses.replace(DEFAULTS, max_codes=2)

    summary = _run(warehouse, gx_project, scope="contacts", settings=settings)

    stored = _rows(
        warehouse,
        "select window_name, commune_code, check_name, element_count, unexpected_count,"
        " affected_count, observed_value, threshold, success, failing_key, failing_codes"
        " from dq.validation_results where run_id = %s and suite = 'contact_completeness'"
        " order by result_id",
        (summary["run_id"],),
    )
    key = itemgetter(0, 1, 2)
    expected = _expected_contact_results([*contact_dossiers(), *extra], settings)
    stored = sorted(stored, key=key)
    # where more failed than GX lists (20), its codes are some of the failing ones
    sampled = [i for i, e in enumerate(expected) if e[4] > 20]
    assert sampled
    windows = {w.name: w for w in settings.windows(RUN_DATE)}
    for i in sampled:
        window, commune, check = expected[i][:3]
        failing = {
            d[0]
            for d in [*contact_dossiers(), *extra]
            if (d[1] or "(none)") == commune
            and windows[window].start <= d[2] <= windows[window].end
            and not d[FLAGS[check]]
        }
        assert len(failing) == expected[i][4]
        assert len(stored[i][10]) == settings.max_codes
        assert set(stored[i][10]) <= failing
        stored[i] = (*stored[i][:10], expected[i][10])
    assert stored == expected
    assert len(expected) == 7 * 3  # (none) in both windows, B with HS-B-07 in both, A, C
    assert _contact_rows_left(warehouse) == NO_ROWS_LEFT


def test_contact_rows_are_the_runs_own_and_released(
    warehouse: str,
    gx_project: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
):
    """While it runs, the contact asset holds the run's rows beside another run's, which it
    neither sees nor deletes; afterwards (also after an error) none of its own are left."""
    other = "a-run-in-flight"
    # its session stays open while it runs (the rows are its pid's)
    in_flight = psycopg.connect(warehouse, autocommit=True)
    request.addfinalizer(in_flight.close)
    store.ensure_schema(in_flight)
    in_flight.execute(
        "insert into dq.contact_dossiers values"
        " (%s, 'month_to_date', '99999', 'HS-Z-01', false, false, false)",
        (other,),
    )
    staged: list[list[tuple[Any, ...]]] = []
    real_run = gxp.run_checkpoint

    def spy(context: Any, name: str, **kwargs: Any) -> Any:
        if name == gxp.CONTACT_CHECKPOINT and not staged:
            staged.append(
                _rows(
                    warehouse,
                    "select run_id = %s, window_name, commune_code, count(*)"
                    " from dq.contact_dossiers group by 1, 2, 3 order by 1, 2, 3",
                    (other,),
                )
            )
        return real_run(context, name, **kwargs)

    monkeypatch.setattr(gxp, "run_checkpoint", spy)
    summary = _run(warehouse, gx_project, scope="contacts")

    assert staged == [
        [
            (False, "last_7_days", A, 10),
            (False, "last_7_days", B, 6),
            (False, "month_to_date", A, 10),
            (False, "month_to_date", B, 6),
            (False, "month_to_date", C, 5),
            (True, "month_to_date", "99999", 1),
        ]
    ]
    assert "99999" not in {c["commune_code"] for c in summary["communes"]}
    left = "select run_id, count(*) from dq.contact_dossiers group by run_id"
    assert _rows(warehouse, left) == [(other, 1)]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("parsing failed")

    monkeypatch.setattr(gxp, "parse_checkpoint_result", broken)
    with pytest.raises(RuntimeError, match="parsing failed"):
        _run(warehouse, gx_project, scope="contacts")
    assert _rows(warehouse, left) == [(other, 1)]


def _wait_until_session_gone(conn: psycopg.Connection, pid: int) -> None:
    """The server ends a session's process just after its client goes: wait for that."""
    for _ in range(200):
        gone = conn.execute(
            "select not exists (select from pg_stat_activity where pid = %s)", (pid,)
        )
        if gone.fetchone() == (True,):
            return
        time.sleep(0.05)
    raise AssertionError(f"session {pid} still there 10 s after its client closed it")


def test_contact_rows_of_runs_killed_before_their_release_are_deleted_by_the_next_run(
    warehouse: str, gx_project: Path
):
    """A run killed before its release (SIGKILL: no finally) leaves its staged rows: the
    next run deletes them, and those its own session staged for another run, and keeps
    the rows of a run still in flight, whose session is open."""
    in_flight = psycopg.connect(warehouse, autocommit=True)
    try:
        store.ensure_schema(in_flight)
        insert = (
            "insert into dq.contact_dossiers values"
            " (%s, 'month_to_date', '99999', 'HS-Z-01', false, false, false)"
        )
        with psycopg.connect(warehouse, autocommit=True) as killed:
            killed.execute(insert, ("a-killed-run",))
            killed.execute(insert, ("a-killed-run",))
            killed_pid = killed.info.backend_pid
        _wait_until_session_gone(in_flight, killed_pid)
        in_flight.execute(insert, ("a-run-in-flight",))
        left = "select run_id, count(*) from dq.contact_dossiers group by run_id order by 1"
        assert _rows(warehouse, left) == [("a-killed-run", 2), ("a-run-in-flight", 1)]

        with psycopg.connect(warehouse, autocommit=True) as conn:
            conn.execute(insert, ("an-earlier-run-of-this-session",))
            staged = store.stage_contacts(conn, "this-run", DEFAULTS.windows(RUN_DATE))
            # this run's rows, the one in flight: the killed run's and the earlier are gone
            assert staged == 37  # contact_dossiers(): 21 in month_to_date, 16 in last_7_days
            assert _rows(warehouse, left) == [("a-run-in-flight", 1), ("this-run", staged)]
            store.release_contacts(conn, "this-run")
        assert _rows(warehouse, left) == [("a-run-in-flight", 1)]
    finally:
        in_flight.execute("delete from dq.contact_dossiers")
        in_flight.close()


def test_missing_fact_table_records_the_contact_checks_as_not_evaluated(
    warehouse: str, gx_project: Path
):
    _execute(warehouse, "drop table marts.fct_dossier cascade")

    summary = _run(warehouse, gx_project, scope="contacts")

    stored = _rows(
        warehouse,
        "select check_name, success, commune_code, error like '%%marts.fct_dossier%%'"
        " from dq.validation_results where run_id = %s and suite = 'contact_completeness'"
        " order by check_name",
        (summary["run_id"],),
    )
    assert stored == [
        ("address_present", False, None, True),
        ("email_valid", False, None, True),
        ("phone_valid", False, None, True),
    ]
    assert _contact_rows_left(warehouse) == NO_ROWS_LEFT


# --- pipeline health -----------------------------------------------------------------------------


def test_clean_pipeline_passes_every_blocking_suite(warehouse: str, gx_project: Path):
    summary = _run(warehouse, gx_project)

    assert summary["pipeline_findings"] == []
    assert summary["suites"] == {
        "contact_completeness": {"severity": "warn", "success": False, "checks": 15, "failed": 3},
        "dossier_current_state": {"severity": "block", "success": True, "checks": 5, "failed": 0},
        "file_reconciliation": {"severity": "block", "success": True, "checks": 2, "failed": 0},
        "onestop_valid_rows": {"severity": "block", "success": True, "checks": 4, "failed": 0},
        "quarantine_share": {"severity": "warn", "success": True, "checks": 1, "failed": 0},
        "survey_answers": {"severity": "block", "success": True, "checks": 5, "failed": 0},
        "progress_766": {"severity": "warn", "success": True, "checks": 1, "failed": 0},
    }


def test_reconciliation_mismatch_raises_after_storing(warehouse: str, gx_project: Path):
    _execute(
        warehouse,
        "update ops.file_reconciliation set rows_loaded = rows_loaded - 1"
        " where file_name = 'hoso_20170714_bc.csv'",
    )
    with pytest.raises(QualityGateError) as caught:
        _run(warehouse, gx_project)

    summary = caught.value.summary
    assert summary["blocking_failed"] is True
    assert summary["suites"]["file_reconciliation"]["success"] is False
    assert summary["pipeline_findings"] == [
        {
            "suite": "file_reconciliation",
            "check": "rows_reconcile",
            "severity": "block",
            "observed": 0.6667,
            "required": 1.0,
            "rows": 3,
            "affected": 1,
            "key": "file_name",
            "codes": ["hoso_20170714_bc.csv"],
            "error": None,
        }
    ]
    assert "file_reconciliation.rows_reconcile" in str(caught.value)
    stored = _rows(
        warehouse,
        "select count(*), count(*) filter (where not success),"
        " array_agg(failing_codes) filter (where not success and severity = 'block')"
        " from dq.validation_results where run_id = %s",
        (summary["run_id"],),
    )
    assert stored == [(RESULTS_PER_RUN, 4, [["hoso_20170714_bc.csv"]])]
    assert _contact_rows_left(warehouse) == NO_ROWS_LEFT


def test_raw_rows_must_match_the_file(warehouse: str, gx_project: Path):
    _execute(
        warehouse,
        "delete from raw.onestop_rows where file_name = 'hoso_20170714_a.csv' and row_number = 10",
    )
    with pytest.raises(QualityGateError) as caught:
        _run(warehouse, gx_project)
    (finding,) = caught.value.summary["pipeline_findings"]
    assert (finding["check"], finding["codes"]) == ("raw_rows_match_file", ["hoso_20170714_a.csv"])


BLOCKING_CASES: dict[str, tuple[str, str, str, list[str]]] = {
    "duplicate dossier code": (
        "insert into marts.fct_dossier select * from marts.fct_dossier"
        " where dossier_code = 'HS-B-02'",
        "dossier_current_state",
        "dossier_code_unique",
        ["HS-B-02"],
    ),
    "status outside the vocabulary": (
        "update marts.fct_dossier set status = 'Đã hủy' where dossier_code = 'HS-B-04'",
        "dossier_current_state",
        "status_in_vocabulary",
        ["HS-B-04"],
    ),
    "due before received in a valid row": (
        "update intermediate.int_onestop__rows_checked set due_at = '2017-07-01'"
        " where dossier_code = 'HS-A-05'",
        "onestop_valid_rows",
        "due_not_before_received",
        ["HS-A-05"],
    ),
    "survey answer out of range": (
        "update staging.stg_survey__responses set ans_staff = 7 where response_id = 'PKS-002'",
        "survey_answers",
        "ans_staff_1_to_5",
        ["PKS-002"],
    ),
}


@pytest.mark.parametrize("case", list(BLOCKING_CASES))
def test_blocking_checks(warehouse: str, gx_project: Path, case: str):
    statement, suite, check, codes = BLOCKING_CASES[case]
    _execute(warehouse, statement)

    with pytest.raises(QualityGateError) as caught:
        _run(warehouse, gx_project)

    failed = [
        (f["suite"], f["check"], f["severity"], f["affected"], f["codes"])
        for f in caught.value.summary["pipeline_findings"]
    ]
    assert failed == [(suite, check, "block", len(codes), codes)]


def test_due_date_may_be_missing_for_refused_dossiers(warehouse: str, gx_project: Path):
    _execute(
        warehouse,
        "update intermediate.int_onestop__rows_checked set due_at = null,"
        " status = 'Từ chối tiếp nhận' where dossier_code = 'HS-A-06'",
    )
    assert _run(warehouse, gx_project)["blocking_failed"] is False


def test_quarantine_share_over_limit_warns(warehouse: str, gx_project: Path):
    _execute(
        warehouse,
        "update ops.file_reconciliation set rows_loaded = 7, rows_quarantined = 3"
        " where file_name = 'hoso_20170714_a.csv'",
    )
    summary = _run(warehouse, gx_project)  # 3/10 = 0.30 > 0.20: a warning, no QualityGateError

    assert summary["blocking_failed"] is False
    (finding,) = summary["pipeline_findings"]
    assert (finding["suite"], finding["severity"], finding["codes"]) == (
        "quarantine_share",
        "warn",
        ["hoso_20170714_a.csv"],
    )
    stored = _rows(
        warehouse,
        "select expectation_kwargs->>'max_value' from dq.validation_results"
        " where run_id = %s and suite = 'quarantine_share'",
        (summary["run_id"],),
    )
    assert stored == [("0.2",)]

    lenient = QualitySettings(max_quarantine_share=0.30)
    assert _run(warehouse, gx_project, settings=lenient)["pipeline_findings"] == []


def test_missing_relation_blocks_with_the_error_recorded(warehouse: str, gx_project: Path):
    _execute(warehouse, "drop table ops.file_reconciliation")

    with pytest.raises(QualityGateError) as caught:
        _run(warehouse, gx_project)

    findings = caught.value.summary["pipeline_findings"]
    assert {(f["suite"], f["check"]) for f in findings} == {
        ("file_reconciliation", "raw_rows_match_file"),
        ("file_reconciliation", "rows_reconcile"),
        ("quarantine_share", "quarantine_share"),
    }
    assert all("file_reconciliation" in (f["error"] or "") for f in findings)
    stored = _rows(
        warehouse,
        "select count(*) from dq.validation_results where run_id = %s and error is not null",
        (caught.value.summary["run_id"],),
    )
    assert stored == [(3,)]


# --- history, privacy, GX project ----------------------------------------------------------------


def test_no_dossier_in_the_windows_is_not_a_finding(warehouse: str, gx_project: Path):
    _execute(warehouse, "delete from marts.fct_dossier where received_date >= '2017-07-01'")

    summary = _run(warehouse, gx_project)

    assert summary["communes"] == []
    assert summary["suites"]["contact_completeness"] == {
        "severity": "warn",
        "success": True,
        "checks": 0,
        "failed": 0,
    }


def test_old_gx_results_are_pruned_from_the_local_gx_store(warehouse: str, gx_project: Path):
    _run(warehouse, gx_project)
    results_dir = gx_project / "gx" / "uncommitted" / "validations"
    assert len(list(results_dir.rglob("*.json"))) > 5

    context = gxp.open_context(warehouse, gx_project)
    try:
        later = datetime.now(UTC) + timedelta(days=40)
        assert gxp.prune_validation_results(context, 0, later) == 0  # 0 keeps everything
        removed = gxp.prune_validation_results(context, 35, later)
    finally:
        gxp.close_context(context)
    assert removed == 5 + 6  # contact batches + the 6 whole-table validations
    assert [p for p in results_dir.rglob("*.json") if p.name != ".ge_store_backend_id"] == []


def test_history_is_kept_across_runs(warehouse: str, gx_project: Path):
    first = _run(warehouse, gx_project)
    second = _run(warehouse, gx_project)

    assert first["run_id"] != second["run_id"]
    counts = _rows(
        warehouse,
        "select run_id::text, count(*) from dq.validation_results group by run_id order by 1",
    )
    assert sorted(counts) == sorted(
        [(first["run_id"], RESULTS_PER_RUN), (second["run_id"], RESULTS_PER_RUN)]
    )
    assert _contact_rows_left(warehouse) == NO_ROWS_LEFT


def _text_of_every_output(url: str, summary: dict[str, Any], project: Path) -> list[str]:
    texts = [json.dumps(summary, ensure_ascii=False)]
    texts += [r[0] for r in _rows(url, "select t::text from dq.validation_results as t")]
    for path in (project / "gx" / "uncommitted").rglob("*"):
        if path.is_file() and path.suffix in {".json", ".html"}:
            texts.append(path.read_text(encoding="utf-8"))
    return texts


def test_no_personal_data_in_any_output(warehouse: str, gx_project: Path):
    # A failure in every asset, so that every one of them reports failing rows.
    for statement, *_ in BLOCKING_CASES.values():
        _execute(warehouse, statement)
    _execute(warehouse, "update ops.file_reconciliation set rows_loaded = 0")
    with pytest.raises(QualityGateError) as caught:
        _run(warehouse, gx_project)
    texts = _text_of_every_output(warehouse, caught.value.summary, gx_project)
    texts.append(str(caught.value))

    assert len(texts) > 10  # summary, stored rows, GX results and the quality report pages
    for secret in PERSONAL:
        leaked = [t[:80] for t in texts if secret.casefold() in t.casefold()]
        assert leaked == [], f"{secret!r} leaked"


def test_quality_report_written_by_each_run(warehouse: str, gx_project: Path):
    summary = _run(warehouse, gx_project)

    index = Path(summary["quality_report"])
    assert index == gx_project / "gx" / "uncommitted" / "quality_report" / "index.html"
    assert index.is_file()
    (page,) = (index.parent / "runs").glob("*.html")
    assert page.name == f"2017-07-14_{summary['run_id']}.html"


def _tracked_files(project: Path) -> dict[str, str]:
    return {
        str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((project / "gx").rglob("*"))
        if p.is_file() and "uncommitted" not in p.parts
    }


def test_run_never_rewrites_the_reviewed_project(warehouse: str, gx_project: Path):
    before = _tracked_files(gx_project)
    _run(warehouse, gx_project)
    assert _tracked_files(gx_project) == before


def test_gx_analytics_disabled(warehouse: str, gx_project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "True")
    context = gxp.open_context(warehouse, gx_project)
    try:
        assert context.variables.analytics_enabled is False
        assert os.environ["GX_ANALYTICS_ENABLED"] == "False"
    finally:
        gxp.close_context(context)
    committed = yaml.safe_load(
        (config.expectations_dir() / "gx" / "great_expectations.yml").read_text()
    )
    assert committed["analytics_enabled"] is False
    assert committed["fluent_datasources"]["warehouse"]["connection_string"] == (
        "${MOTCUA_GX_WAREHOUSE_URL}"
    )


def test_pipeline_step_calls_run_checks(
    warehouse: str, gx_project: Path, monkeypatch: pytest.MonkeyPatch
):
    from motcua import pipeline

    monkeypatch.setenv("MOTCUA_GX_PROJECT_DIR", str(gx_project))
    summary = pipeline.check_quality(warehouse, RUN_DATE)
    assert [c["commune_code"] for c in summary["communes"]] == [A, C]
    assert json.loads(json.dumps(summary)) == summary  # JSON-ready as is


def test_settings_file_holds_the_documented_defaults():
    settings = load_settings(config.expectations_dir() / "dq_settings.yml")
    assert settings == QualitySettings(
        recent_days=7,
        contact_mostly={"address_present": 0.95, "phone_valid": 0.90, "email_valid": 0.60},
        max_quarantine_share=0.20,
        max_codes=5,
        docs_keep_days=35,
    )


@pytest.mark.parametrize(
    "bad",
    [
        lambda: QualitySettings(recent_days=0),
        lambda: QualitySettings(max_quarantine_share=1.5),
        lambda: QualitySettings(contact_mostly={"phone_valid": 0.9}),
        lambda: QualitySettings(contact_mostly={**QualitySettings().contact_mostly, "fax": 1}),
    ],
)
def test_bad_settings_are_refused(bad: Callable[[], QualitySettings]):
    with pytest.raises(ValueError):
        bad()


def test_received_after_run_date_warns_without_blocking(warehouse: str, gx_project: Path):
    """An as-of run for a past date sees later dossiers; the marts cut them off by rule."""
    _execute(
        warehouse,
        "update marts.fct_dossier set received_date = '2017-07-15' where dossier_code = 'HS-B-03'",
    )
    summary = _run(warehouse, gx_project)
    found = [
        (f["suite"], f["check"], f["severity"], f["affected"], f["codes"])
        for f in summary["pipeline_findings"]
    ]
    assert found == [
        ("dossier_current_state", "received_not_after_run_date", "warn", 1, ["HS-B-03"])
    ]
    assert summary["blocking_failed"] is False


def test_scopes_split_the_checks_around_publication(warehouse: str, gx_project: Path):
    """`pipeline` runs before the marts are published, `contacts` after: no overlap."""
    pipeline = _run(warehouse, gx_project, scope="pipeline")
    contacts = _run(warehouse, gx_project, scope="contacts")
    ran = {
        scope: {name for name, s in summary["suites"].items() if s["checks"]}
        for scope, summary in (("pipeline", pipeline), ("contacts", contacts))
    }
    assert ran == {
        "pipeline": {
            "file_reconciliation",
            "quarantine_share",
            "dossier_current_state",
            "onestop_valid_rows",
            "survey_answers",
        },
        "contacts": {"contact_completeness", "progress_766"},
    }
    assert pipeline["communes"] == []
    assert contacts["pipeline_findings"] == []
    assert contacts["communes"], "the fixture's commune A falls short on phones"


def test_merged_summary_of_both_stages_equals_one_full_run(warehouse: str, gx_project: Path):
    from motcua.quality.run import merge_summaries

    full = _run(warehouse, gx_project)
    merged = merge_summaries(
        _run(warehouse, gx_project, scope="pipeline"),
        _run(warehouse, gx_project, scope="contacts"),
    )
    for key in ("success", "blocking_failed", "communes", "pipeline_findings"):
        assert merged[key] == full[key], key
    assert {k: (v["checks"], v["failed"]) for k, v in merged["suites"].items()} == {
        k: (v["checks"], v["failed"]) for k, v in full["suites"].items()
    }
    assert sorted(w["window"] for w in merged["windows"]) == sorted(
        w["window"] for w in full["windows"]
    )


def test_progress_points_fallen_beyond_the_setting_name_the_commune(
    warehouse: str, gx_project: Path
):
    """The 766 progress points of the latest ended month against the month before: a fall
    of more than index766.max_progress_points_drop (2.0) is a warning naming the commune;
    exactly 2.0, a rise, or no month before is not."""
    _execute(
        warehouse,
        """insert into marts.commune_lateness values ('2017-07-14');
           insert into marts.commune_index_766 values
               ('a', '22534', 'progress_on_time', 'month', '2017-05-01', '2017-05-31', 18.00),
               ('a', '22534', 'progress_on_time', 'month', '2017-06-01', '2017-06-30', 15.50),
               ('b', '22597', 'progress_on_time', 'month', '2017-05-01', '2017-05-31', 14.00),
               ('b', '22597', 'progress_on_time', 'month', '2017-06-01', '2017-06-30', 12.00),
               ('c', '22570', 'progress_on_time', 'month', '2017-05-01', '2017-05-31', 10.00),
               ('c', '22570', 'progress_on_time', 'month', '2017-06-01', '2017-06-30', 19.00),
               ('d', '22552', 'progress_on_time', 'month', '2017-06-01', '2017-06-30', 1.00),
               ('a', '22534', 'progress_on_time', 'month', '2017-07-01', '2017-07-31', 1.00),
               ('a', '22534', 'e_result', 'month', '2017-05-01', '2017-05-31', 6.00)""",
    )
    summary = _run(warehouse, gx_project, scope="contacts")
    found = [
        (f["suite"], f["check"], f["severity"], f["affected"], f["key"], f["codes"])
        for f in summary["pipeline_findings"]
    ]
    assert found == [("progress_766", "progress_points_drop", "warn", 1, "commune_code", ["22534"])]
    assert summary["blocking_failed"] is False
