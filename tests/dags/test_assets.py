"""The marts' assets come from the dbt manifest; their events carry the nightly run's date."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from motcua.orchestration import assets
from motcua.orchestration.defaults import announce_marts
from motcua.orchestration.nightly import reports_day


def _node(kind: str, path: str, schema: str, alias: str) -> dict[str, str]:
    return {"resource_type": kind, "original_file_path": path, "schema": schema, "alias": alias}


def test_the_marts_are_the_models_under_models_marts(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.motcua.b": _node("model", "models/marts/b.sql", "marts", "b_table"),
        "model.motcua.a": _node("model", "models/marts/sub/a.sql", "marts", "a"),
        "model.motcua.stg": _node("model", "models/staging/stg.sql", "staging", "stg"),
        "test.motcua.t": _node("test", "models/marts/_marts__models.yml", "marts", "t"),
        "model.motcua.m": _node("model", "models/martsish/m.sql", "marts", "m"),
    }
    manifest.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    assert assets.mart_tables(manifest) == (("marts", "a"), ("marts", "b_table"))


def test_the_project_manifest_names_every_mart() -> None:
    names = [a.name for a in assets.marts()]
    assert names == [
        "marts.commune_backlog_ageing", "marts.commune_contact_completeness",
        "marts.commune_index_766", "marts.commune_lateness", "marts.commune_lateness_current",
        "marts.commune_processing_time", "marts.commune_satisfaction",
        "marts.commune_scorecard_766", "marts.dim_commune", "marts.district_lateness",
        "marts.district_satisfaction", "marts.dossiers_due_soon", "marts.fct_dossier",
        "marts.province_lateness", "marts.province_lateness_current",
        "marts.province_satisfaction",
    ]  # fmt: skip
    assert assets.marts()[0].uri == (
        "postgres://warehouse:5432/warehouse/marts/commune_backlog_ageing"
    )


class _Events(dict):
    def __missing__(self, key: Any) -> SimpleNamespace:
        self[key] = SimpleNamespace(extra={})
        return self[key]


def test_the_publish_step_puts_the_run_date_on_every_mart_event() -> None:
    marts = assets.marts()[:2]
    task = SimpleNamespace(outlets=marts)
    ti = SimpleNamespace(task=task, xcom_pull=lambda task_ids: "2017-07-14")
    events = _Events()
    announce_marts({"ti": ti, "outlet_events": events}, None)
    assert {a.name: e.extra for a, e in events.items()} == {
        a.name: {"run_date": "2017-07-14"} for a in marts
    }


def _event(extra: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(extra=extra)


def test_the_reports_are_those_due_on_the_published_run_date() -> None:
    marts = assets.marts()
    events = {marts[0]: [_event({"run_date": "2017-06-30"}), _event({"run_date": "2017-07-01"})]}
    events[marts[1]] = [_event({})]
    assert reports_day({"params": {"day": None}, "triggering_asset_events": events}) == date(
        2017, 7, 1
    )
    # a conf day wins; without either, the logical date in Asia/Ho_Chi_Minh
    assert reports_day({"params": {"day": "2017-04-01"}, "triggering_asset_events": events}) == (
        date(2017, 4, 1)
    )
    logical = datetime(2017, 9, 30, 18, 30, tzinfo=UTC)  # 01:30 on Oct 1 in Vietnam
    assert reports_day({"params": {}, "logical_date": logical}) == date(2017, 10, 1)
