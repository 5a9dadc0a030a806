"""``run_checks``: every data-quality checkpoint of one nightly run.

1. (contact scopes) copy the contact flags of the dossiers received in the
   run's received-date windows into ``dq.contact_dossiers`` once, deleted
   again at the end of the run;
2. run the contact checkpoint once per (window, commune) batch, then the
   pipeline-health checkpoints once each, thresholds as suite parameters;
3. append every result to ``dq.validation_results`` (one transaction);
4. rewrite the quality report (``gx/uncommitted/quality_report/``) from
   ``dq``: escaped, self-contained HTML that replaces the GX Data Docs;
5. return a JSON-ready summary, or raise :class:`QualityGateError` (with the
   same summary) when a blocking check failed — always after step 3.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import psycopg

from motcua.quality import gx_project, report, store
from motcua.quality.settings import QualitySettings, Window, load_settings
from motcua.quality.store import CheckResult

log = logging.getLogger(__name__)

Scope = Literal["all", "pipeline", "contacts"]


class QualityGateError(RuntimeError):
    """A blocking check failed. Raised after the results are stored; carries the summary."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        findings = [*summary["pipeline_findings"]]
        for commune in summary["communes"]:
            findings += [
                {**f, "codes": f["dossier_codes"], "where": commune["commune_code"]}
                for f in commune["findings"]
            ]
        failed = [_describe(f) for f in findings if f["severity"] == "block"]
        super().__init__(
            f"blocking data-quality checks failed for run_date {summary['run_date']} "
            f"(run {summary['run_id']}): " + "; ".join(failed)
        )


def _describe(finding: dict[str, Any]) -> str:
    """'suite.check [commune] (error | N affected: code, code)' — codes only."""
    name = f"{finding['suite']}.{finding['check']}"
    if finding.get("where"):
        name += f" [{finding['where']}]"
    if finding.get("error"):
        return f"{name} (not evaluated: {finding['error']})"
    detail = f"{finding['affected']} affected"
    if finding["codes"]:
        detail += ": " + ", ".join(finding["codes"])
    return f"{name} ({detail})"


def run_checks(
    url: str,
    run_date: date,
    *,
    recent_days: int | None = None,
    settings: QualitySettings | None = None,
    project_dir: Path | None = None,
    scope: Scope = "all",
) -> dict[str, Any]:
    """Run the checks of ``scope`` for ``run_date``, store the results in ``dq``, summarise.

    The nightly DAG runs ``pipeline`` (blocking: can the numbers be trusted?)
    before it publishes the marts, and ``contacts`` (warnings) after.

    ``recent_days`` overrides the length of the recent window (settings file
    default: 7 days up to and including ``run_date``); ``settings`` and
    ``project_dir`` replace ``expectations/dq_settings.yml`` and ``expectations/``.
    """
    settings = settings or load_settings()
    if recent_days is not None:
        settings = dataclasses.replace(settings, recent_days=recent_days)
    run_id = str(uuid.uuid4())
    checked_at = datetime.now(UTC).replace(microsecond=0)
    windows = settings.windows(run_date)
    params = settings.expectation_parameters(run_date)

    project = project_dir or gx_project.project_dir()
    with psycopg.connect(url, autocommit=True, application_name="motcua-quality") as conn:
        store.ensure_schema(conn)
        try:
            results, severities = _run_gx(
                conn, url, run_id, run_date, checked_at, windows, params, settings, project, scope
            )
        finally:
            store.release_contacts(conn, run_id)
        stored = store.store_results(conn, run_id, run_date, checked_at, results)
        names = store.commune_names(
            conn, sorted({r.commune_code for r in results if r.commune_code}), run_date
        )
        page = _write_report(conn, project, settings, checked_at)

    summary = build_summary(run_id, run_date, checked_at, windows, results, names, page, severities)
    log.info(
        "data quality %s: %d results stored, %d failed (%d blocking), %d communes with findings",
        run_date,
        stored,
        sum(not r.success for r in results),
        sum(r.blocking_failure for r in results),
        len(summary["communes"]),
    )
    if summary["blocking_failed"]:
        raise QualityGateError(summary)
    return summary


def _write_report(
    conn: psycopg.Connection, project: Path, settings: QualitySettings, checked_at: datetime
) -> str | None:
    """The quality report's index page, or None: the checks matter more than their pages."""
    try:
        gx_project.remove_legacy_data_docs(project)
        index = report.write_report(
            conn,
            report.report_dir(project),
            project=project,
            keep_days=settings.docs_keep_days,
            now=checked_at,
        )
    except Exception as exc:
        log.warning("quality report not written: %s", gx_project.error_text(exc))
        return None
    return str(index)


def _run_gx(
    conn: psycopg.Connection,
    url: str,
    run_id: str,
    run_date: date,
    checked_at: datetime,
    windows: Sequence[Window],
    params: dict[str, Any],
    settings: QualitySettings,
    project_dir: Path,
    scope: Scope = "all",
) -> tuple[list[CheckResult], dict[str, str]]:
    """Every checkpoint of ``scope``; a check that cannot run is a failed result, not an error.

    ``conn`` stages the run's contact rows (``store.stage_contacts``) before GX
    lists the batches, so a missing fact table is recorded against the
    contact checks as before; the caller releases them.
    """
    context = gx_project.open_context(url, project_dir)
    run_name = f"{run_date.isoformat()}_{run_id[:8]}"
    results: list[CheckResult] = []
    by_name = {w.name: w for w in windows}

    def run_one(
        checkpoint: str,
        batch: gx_project.BatchContext,
        batch_parameters: dict[str, Any] | None = None,
    ) -> None:
        key = gx_project.checkpoint_key_column(context, checkpoint)
        try:
            outcome = gx_project.run_checkpoint(
                context,
                checkpoint,
                run_name=run_name,
                run_time=checked_at,
                expectation_parameters=params,
                batch_parameters=batch_parameters,
            )
        except Exception as exc:  # a relation missing, the database gone...
            log.warning("checkpoint %s could not run: %s", checkpoint, gx_project.error_text(exc))
            results.extend(gx_project.failed_checkpoint_rows(context, checkpoint, exc, batch))
            return
        results.extend(
            gx_project.parse_checkpoint_result(
                outcome,
                checkpoint=checkpoint,
                key_column=key,
                max_codes=settings.max_codes,
                batch=batch,
            )
        )

    try:
        severities = gx_project.suite_severities(context)
        batches: list[dict[str, Any]] = []
        if scope in ("all", "contacts"):
            try:
                staged = store.stage_contacts(conn, run_id, windows)
                batches = gx_project.contact_batches(context, run_id)
                log.info("contact checks: %d rows in %d batches", staged, len(batches))
            except Exception as exc:
                log.warning("contact batches unavailable: %s", gx_project.error_text(exc))
                results.extend(
                    gx_project.failed_checkpoint_rows(context, gx_project.CONTACT_CHECKPOINT, exc)
                )
        for batch in batches:
            window = by_name[batch["window_name"]]
            run_one(
                gx_project.CONTACT_CHECKPOINT,
                gx_project.BatchContext(
                    window_name=window.name,
                    period_start=window.start,
                    period_end=window.end,
                    commune_code=batch["commune_code"],
                ),
                batch,
            )
        pipeline = gx_project.PIPELINE_CHECKPOINTS if scope in ("all", "pipeline") else ()
        if scope in ("all", "contacts"):
            pipeline += gx_project.MARTS_CHECKPOINTS
        for checkpoint in pipeline:
            run_one(checkpoint, gx_project.BatchContext())
        try:
            gx_project.prune_validation_results(context, settings.docs_keep_days, checked_at)
        except Exception as exc:  # a local record only: the results are in dq
            log.warning("old GX results not pruned: %s", gx_project.error_text(exc))
    finally:
        gx_project.close_context(context)
    return results, severities


# --- summary ------------------------------------------------------------------------------------


def build_summary(
    run_id: str,
    run_date: date,
    checked_at: datetime,
    windows: Sequence[Window],
    results: Sequence[CheckResult],
    commune_names: dict[str, str],
    quality_report: str | None,
    suite_severities: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON-ready summary the alert is built from (codes and shares only).

    ``suites`` lists every suite of the project, also one with nothing to
    check this run (``checks`` 0, e.g. no dossier received in the windows).
    """
    suites: dict[str, dict[str, Any]] = {
        name: {"severity": severity, "success": True, "checks": 0, "failed": 0}
        for name, severity in (suite_severities or {}).items()
    }
    for r in results:
        entry = suites.setdefault(
            r.suite, {"severity": "warn", "success": True, "checks": 0, "failed": 0}
        )
        entry["checks"] += 1
        if r.severity == "block":
            entry["severity"] = "block"
        if not r.success:
            entry["success"] = False
            entry["failed"] += 1

    communes: dict[str, list[dict[str, Any]]] = {}
    pipeline: list[dict[str, Any]] = []
    for r in results:
        if r.success:
            continue
        if r.commune_code is not None:
            communes.setdefault(r.commune_code, []).append(
                {
                    "suite": r.suite,
                    "check": r.check_name,
                    "severity": r.severity,
                    "window": r.window_name,
                    "period_start": _iso(r.period_start),
                    "period_end": _iso(r.period_end),
                    "observed": r.observed_value,
                    "required": r.threshold,
                    "dossiers": r.element_count,
                    "affected": r.affected_count,
                    "dossier_codes": list(r.failing_codes),
                    "error": r.error,
                }
            )
        else:
            pipeline.append(
                {
                    "suite": r.suite,
                    "check": r.check_name,
                    "severity": r.severity,
                    "observed": r.observed_value,
                    "required": r.threshold,
                    "rows": r.element_count,
                    "affected": r.affected_count,
                    "key": r.failing_key,
                    "codes": list(r.failing_codes),
                    "error": r.error,
                }
            )

    return {
        "run_id": run_id,
        "run_date": run_date.isoformat(),
        "checked_at": checked_at.isoformat(),
        "success": all(r.success for r in results),
        "blocking_failed": any(r.blocking_failure for r in results),
        "windows": [
            {"window": w.name, "period_start": w.start.isoformat(), "period_end": w.end.isoformat()}
            for w in windows
        ],
        "suites": dict(sorted(suites.items())),
        "communes": [
            {
                "commune_code": code,
                "commune_name": commune_names.get(code),
                "findings": findings,
            }
            for code, findings in sorted(communes.items())
        ],
        "pipeline_findings": pipeline,
        "quality_report": quality_report,
    }


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def merge_summaries(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """One summary of a run's two check stages (pipeline, then contacts), for one alert."""
    communes: dict[str, dict[str, Any]] = {}
    for summary in (first, second):
        for commune in summary["communes"]:
            entry = communes.setdefault(commune["commune_code"], {**commune, "findings": []})
            entry["findings"] = [*entry["findings"], *commune["findings"]]
    suites = dict(first["suites"])
    for name, suite in second["suites"].items():
        if suite["checks"] or name not in suites:
            suites[name] = suite
    windows = {w["window"]: w for w in [*first["windows"], *second["windows"]]}
    return {
        "run_id": f"{first['run_id']}+{second['run_id']}",
        "run_date": second["run_date"],
        "checked_at": second["checked_at"],
        "success": first["success"] and second["success"],
        "blocking_failed": first["blocking_failed"] or second["blocking_failed"],
        "windows": list(windows.values()),
        "suites": suites,
        "communes": sorted(communes.values(), key=lambda c: c["commune_code"]),
        "pipeline_findings": [*first["pipeline_findings"], *second["pipeline_findings"]],
        "quality_report": second.get("quality_report") or first.get("quality_report"),
    }
