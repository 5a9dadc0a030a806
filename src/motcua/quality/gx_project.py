"""The Great Expectations 1.x file project under ``expectations/`` and its results.

Loads the reviewed project read-only (suites, validation definitions and
checkpoints are git files; runs only write under ``gx/uncommitted/``), runs
its checkpoints and turns GX validation results into :class:`CheckResult`
rows. GX is imported lazily: importing ``motcua.quality`` stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from motcua import config
from motcua.quality.store import CheckResult

if TYPE_CHECKING:
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.data_context import FileDataContext

log = logging.getLogger(__name__)

DATASOURCE = "warehouse"
URL_VARIABLE = "MOTCUA_GX_WAREHOUSE_URL"  # substituted into great_expectations.yml
# Where GX 1.x wrote its Data Docs before the project dropped them (unescaped values,
# CDN scripts): removed on sight, see remove_legacy_data_docs.
LEGACY_DOCS_DIR = ("gx", "uncommitted", "data_docs")

# The contact checkpoint runs once per (window, commune) batch of this asset.
CONTACT_CHECKPOINT = "contact_by_commune"
CONTACT_ASSET = "contact_dossiers"
CONTACT_BATCH_DEFINITION = "by_run_window_commune"
# Whole-table checkpoints, run once each.
PIPELINE_CHECKPOINTS = ("pipeline_files", "pipeline_dossiers", "pipeline_survey")
# Checks of published marts: run with the contact checkpoint, after the marts are built.
MARTS_CHECKPOINTS = ("marts_index766",)

SEVERITY = {"critical": "block", "warning": "warn", "info": "warn"}


def project_dir() -> Path:
    """The directory holding ``gx/`` (``MOTCUA_GX_PROJECT_DIR`` overrides it)."""
    return config.gx_project_dir()


def sqlalchemy_url(url: str) -> str:
    """``postgresql://…`` → ``postgresql+psycopg2://…``, keeping the rest byte for byte."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in {"postgres", "postgresql"}:
        raise ValueError(f"warehouse URL must be a postgresql:// URL, got {parts.scheme!r}")
    return parts._replace(scheme="postgresql+psycopg2").geturl()


def open_context(url: str, root: Path | None = None) -> FileDataContext:
    """The file data context, analytics off, the datasource pointed at ``url``."""
    os.environ["GX_ANALYTICS_ENABLED"] = config.TELEMETRY_OFF["GX_ANALYTICS_ENABLED"]
    import great_expectations as gx

    project = root or project_dir()
    if not (project / "gx" / "great_expectations.yml").is_file():
        raise FileNotFoundError(f"no GX project at {project}/gx (great_expectations.yml)")
    context = gx.get_context(
        mode="file",
        project_root_dir=str(project),
        runtime_environment={URL_VARIABLE: sqlalchemy_url(url)},
    )
    if context.variables.analytics_enabled is not False:
        raise RuntimeError("GX analytics must be disabled (analytics_enabled: false)")
    return context


def close_context(context: FileDataContext) -> None:
    """Dispose of the SQLAlchemy pools GX opened (GX has no close step of its own)."""
    for datasource in context.data_sources.all().values():
        engines = [getattr(datasource, "_engine", None)]
        execution_engine = getattr(datasource, "_execution_engine", None)
        engines.append(getattr(execution_engine, "engine", None))
        for engine in engines:
            if engine is not None:
                with contextlib.suppress(Exception):
                    engine.dispose()


def contact_batches(context: FileDataContext, run_id: str) -> list[dict[str, Any]]:
    """The (window, commune) batches of this run: GX lists them from the asset itself."""
    batch_definition = (
        context.data_sources.get(DATASOURCE)
        .get_asset(CONTACT_ASSET)
        .get_batch_definition(CONTACT_BATCH_DEFINITION)
    )
    identifiers = batch_definition.get_batch_identifiers_list(batch_parameters={"run_id": run_id})
    batches = [
        {
            "run_id": run_id,
            "window_name": str(i["window_name"]),
            "commune_code": str(i["commune_code"]),
        }
        for i in identifiers
    ]
    return sorted(batches, key=lambda b: (b["window_name"], b["commune_code"]))


@dataclass(frozen=True)
class BatchContext:
    """What a result row records about the batch it was computed on."""

    window_name: str | None = None
    period_start: Any = None
    period_end: Any = None
    commune_code: str | None = None


def run_checkpoint(
    context: FileDataContext,
    name: str,
    *,
    run_name: str,
    run_time: datetime,
    expectation_parameters: Mapping[str, Any],
    batch_parameters: Mapping[str, Any] | None = None,
) -> CheckpointResult:
    from great_expectations.core.run_identifier import RunIdentifier

    checkpoint = context.checkpoints.get(name)
    return checkpoint.run(
        batch_parameters=dict(batch_parameters or {}),
        expectation_parameters=dict(expectation_parameters),
        run_id=RunIdentifier(run_name=run_name, run_time=run_time),
    )


def checkpoint_key_column(context: FileDataContext, name: str) -> str | None:
    """The column that identifies failing rows (``unexpected_index_column_names``)."""
    result_format = context.checkpoints.get(name).result_format
    if isinstance(result_format, Mapping):
        columns = result_format.get("unexpected_index_column_names") or []
        return str(columns[0]) if columns else None
    return None


def checkpoint_suites(context: FileDataContext, name: str) -> list[Any]:
    return [vd.suite for vd in context.checkpoints.get(name).validation_definitions]


def suite_severities(context: FileDataContext) -> dict[str, str]:
    """Each suite of the run's checkpoints: ``block`` if any expectation blocks, else ``warn``."""
    severities: dict[str, str] = {}
    for checkpoint in (CONTACT_CHECKPOINT, *PIPELINE_CHECKPOINTS, *MARTS_CHECKPOINTS):
        for suite in checkpoint_suites(context, checkpoint):
            levels = {_severity(e.configuration.severity) for e in suite.expectations}
            severities[suite.name] = "block" if "block" in levels else "warn"
    return severities


def parse_checkpoint_result(
    result: CheckpointResult,
    *,
    checkpoint: str,
    key_column: str | None,
    max_codes: int,
    batch: BatchContext | None = None,
) -> list[CheckResult]:
    rows: list[CheckResult] = []
    for suite_result in result.run_results.values():
        for evr in suite_result.results:
            rows.append(
                _parse_expectation_result(
                    evr,
                    checkpoint=checkpoint,
                    suite=suite_result.suite_name,
                    key_column=key_column,
                    max_codes=max_codes,
                    batch=batch or BatchContext(),
                )
            )
    return rows


def failed_checkpoint_rows(
    context: FileDataContext,
    checkpoint: str,
    error: BaseException,
    batch: BatchContext | None = None,
) -> list[CheckResult]:
    """A checkpoint that could not run: every expectation it holds is recorded as failed."""
    message = error_text(error)
    batch = batch or BatchContext()
    rows = []
    for suite in checkpoint_suites(context, checkpoint):
        for expectation in suite.expectations:
            cfg = expectation.configuration
            rows.append(
                CheckResult(
                    checkpoint=checkpoint,
                    suite=suite.name,
                    expectation=cfg.type,
                    check_name=_check_name(cfg.type, cfg.kwargs, cfg.meta),
                    column_name=_column(cfg.kwargs),
                    severity=_severity(cfg.severity),
                    success=False,
                    window_name=batch.window_name,
                    period_start=batch.period_start,
                    period_end=batch.period_end,
                    commune_code=batch.commune_code,
                    error=message,
                )
            )
    return rows


def error_text(error: BaseException) -> str:
    """Class and first line of an error, short: enough to act on, no data dump."""
    lines = str(error).strip().splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    return f"{type(error).__name__}: {first}"[:300]


def prune_validation_results(context: FileDataContext, keep_days: int, now: datetime) -> int:
    """Drop GX results older than ``keep_days`` from the local GX store, so it stays small.

    Nothing reads them back: ``dq.validation_results`` keeps the full history
    and the quality report is rendered from it.
    """
    if keep_days <= 0:
        return 0
    cutoff = now - timedelta(days=keep_days)
    results_store = context.validation_results_store
    removed = 0
    for key in results_store.list_keys():
        run_time = getattr(getattr(key, "run_id", None), "run_time", None)
        if not isinstance(run_time, datetime):
            continue
        if run_time.tzinfo is None:
            run_time = run_time.replace(tzinfo=UTC)
        if run_time < cutoff:
            results_store.remove_key(key)
            removed += 1
    return removed


def remove_legacy_data_docs(project: Path) -> bool:
    """Delete the GX Data Docs site an earlier version of the project wrote, if any.

    GX 1.24 rendered failing dossier codes and file names into those pages
    unescaped (stored XSS) and the pages load scripts from public CDNs: they
    must not stay where IT staff used to open them. Generated output only
    (``gx/uncommitted/``), never a reviewed file.
    """
    legacy = project.joinpath(*LEGACY_DOCS_DIR)
    if not legacy.is_dir():
        return False
    shutil.rmtree(legacy)
    log.info("removed the old GX Data Docs site %s (replaced by the quality report)", legacy)
    return True


# --- parsing GX results -----------------------------------------------------------------------


def _severity(value: object) -> str:
    raw = str(getattr(value, "value", value) or "critical").lower()
    return SEVERITY.get(raw, "block")


def _column(kwargs: Mapping[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    pair = [kwargs.get("column_A"), kwargs.get("column_B")]
    if all(pair):
        return ",".join(str(c) for c in pair)
    if kwargs.get("column_list"):
        return ",".join(str(c) for c in kwargs["column_list"])
    return None


def _check_name(kind: str, kwargs: Mapping[str, Any], meta: Mapping[str, Any] | None) -> str:
    if meta and meta.get("check"):
        return str(meta["check"])
    column = _column(kwargs)
    return f"{kind}({column})" if column else kind


def _exception_message(info: object) -> str | None:
    """GX puts one exception dict, or one per failed metric, in ``exception_info``."""
    if not isinstance(info, Mapping) or not info:
        return None
    candidates: Iterator[Mapping[str, Any]]
    if "raised_exception" in info:
        candidates = iter([info])
    else:
        candidates = (v for v in info.values() if isinstance(v, Mapping))
    for item in candidates:
        if item.get("raised_exception"):
            text = str(item.get("exception_message") or "exception")
            first = next((ln.strip() for ln in text.splitlines() if ln.strip()), text)
            return first[:300]
    return None


def _failing_codes(
    result: Mapping[str, Any], key_column: str | None
) -> tuple[list[str] | None, int | None]:
    """The distinct failing keys GX listed (sorted) and, when it listed them all, their number.

    On SQL, GX stops the index list at ``partial_unexpected_count`` rows (20),
    in no set order: when fewer rows are listed than failed, the number is
    unknown here (the caller counts the failing rows instead) and the keys
    are a sample.
    """
    if not key_column:
        return None, None
    index_list = result.get("unexpected_index_list")
    if index_list is None:
        index_list = result.get("partial_unexpected_index_list")
        complete = False
    else:
        complete = True
    if not isinstance(index_list, list):
        return None, None
    unexpected = _int(result.get("unexpected_count"))
    if unexpected is not None and len(index_list) < unexpected:
        complete = False
    codes = {
        str(item[key_column])
        for item in index_list
        if isinstance(item, Mapping) and item.get(key_column) is not None
    }
    ordered = sorted(codes, key=_natural_key)
    return ordered, (len(ordered) if complete else None)


def _natural_key(code: str) -> tuple[Any, ...]:
    """'HS-2' before 'HS-10'."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code))


def _observed(result: Mapping[str, Any]) -> float | None:
    pct = result.get("unexpected_percent_nonmissing")
    if isinstance(pct, int | float):
        return round(1 - float(pct) / 100, 4)
    observed = result.get("observed_value")
    if isinstance(observed, int | float) and not isinstance(observed, bool):
        return round(float(observed), 4)
    return None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _parse_expectation_result(
    evr: Any,
    *,
    checkpoint: str,
    suite: str,
    key_column: str | None,
    max_codes: int,
    batch: BatchContext,
) -> CheckResult:
    cfg = evr.expectation_config
    kwargs = {k: v for k, v in dict(cfg.kwargs).items() if k != "batch_id"}
    result = dict(evr.result or {})
    error = _exception_message(evr.exception_info)
    codes, affected = _failing_codes(result, key_column)
    unexpected = _int(result.get("unexpected_count"))
    if affected is None:
        affected = unexpected
    mostly = kwargs.get("mostly")
    threshold = float(mostly) if isinstance(mostly, int | float) else None
    if threshold is None and "unexpected_count" in result:
        threshold = 1.0  # a map expectation without `mostly` requires every row
    return CheckResult(
        checkpoint=checkpoint,
        suite=suite,
        expectation=cfg.type,
        check_name=_check_name(cfg.type, kwargs, cfg.meta),
        column_name=_column(kwargs),
        severity=_severity(cfg.severity),
        success=bool(evr.success) and error is None,
        window_name=batch.window_name,
        period_start=batch.period_start,
        period_end=batch.period_end,
        commune_code=batch.commune_code,
        element_count=_int(result.get("element_count")),
        unexpected_count=unexpected,
        affected_count=affected,
        observed_value=_observed(result),
        threshold=threshold,
        failing_key=key_column if codes else None,
        failing_codes=(codes or [])[:max_codes],
        expectation_kwargs=kwargs,
        error=error,
    )
