"""The bundle the spec generates, checked without running Superset."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml

from motcua.bi import bundle, spec
from motcua.bi import superset as ss
from motcua.warehouse.access import COMMUNE_SHARED_MARTS

URL = "postgresql://superset_bi@db.example:5432/warehouse"


@pytest.fixture(scope="module")
def files() -> dict[str, dict]:
    return ss.bundle_files(URL)


def test_no_password_ever_enters_the_bundle(files: dict[str, dict], tmp_path: Path) -> None:
    with_password = "postgresql://superset_bi:s3cret-value@db.example:5432/warehouse"
    assert ss.bundle_files(with_password) == files  # the password is dropped
    archive = bundle.write_zip(ss.bundle_files(with_password), tmp_path / "b.zip")
    with zipfile.ZipFile(archive) as z:
        assert all(b"s3cret-value" not in z.read(n) for n in z.namelist())
    with pytest.raises(ValueError, match="password"):
        bundle.render(with_password, spec.DATASETS, spec.DASHBOARDS)
    (database,) = [v for k, v in files.items() if k.startswith("databases/")]
    assert (
        database["sqlalchemy_uri"] == "postgresql+psycopg2://superset_bi@db.example:5432/warehouse"
    )


def test_every_chart_has_a_query_context_on_its_dataset(files: dict[str, dict]) -> None:
    charts = {k: v for k, v in files.items() if k.startswith("charts/")}
    datasets = {v["uuid"]: v for k, v in files.items() if k.startswith("datasets/")}
    assert len(charts) == len({c.key for d in spec.DASHBOARDS for c in d.charts})
    for name, chart in charts.items():
        context = json.loads(chart["query_context"])
        (query,) = context["queries"]
        dataset = datasets[chart["dataset_uuid"]]
        columns = {c["column_name"] for c in dataset["columns"]}
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        used = [c if isinstance(c, str) else c["sqlExpression"] for c in query["columns"]]
        assert set(used) <= columns, name
        assert set(query["metrics"]) <= metrics, name
        assert {f["col"] for f in query["filters"]} <= columns, name
        assert context["form_data"]["viz_type"] == chart["viz_type"], name
        assert context["result_type"] == "full" and context["result_format"] == "json"


def test_datasets_are_the_documented_marts(files: dict[str, dict]) -> None:
    documented = bundle.documented_columns()
    for ds in spec.DATASETS:
        if ds.schema == "marts":
            assert ds.table in documented, ds.key
            (doc,) = [v for k, v in files.items() if k.endswith(f"/{ds.key}.yaml")]
            assert [c["column_name"] for c in doc["columns"]] == list(documented[ds.table])


def test_commune_rule_covers_every_dataset_with_commune_rows() -> None:
    split = ss.dataset_access()
    by_uuid = {ds.uuid: ds for ds in spec.DATASETS}
    rls = {by_uuid[u].table for u in split["rls_datasets"]}
    shared = {by_uuid[u].table for u in split["shared_datasets"]}
    # shared with commune accounts exactly where the warehouse shares them
    assert shared == set(COMMUNE_SHARED_MARTS) & {ds.table for ds in spec.DATASETS}
    assert {"dim_commune", "district_lateness", "district_satisfaction"} <= shared
    assert rls == {
        ds.table
        for ds in spec.DATASETS
        if ds.schema == "marts" and ds.has_column("commune_code") and ds.table not in shared
    }
    # the province marts, like the warehouse's (access.secure_mart), are not opened to
    # commune accounts: no commune rows, not shared, so BI staff only (fail closed)
    assert {by_uuid[u].key for u in split["bi_only_datasets"]} == {
        "dq.latest_results_by_commune",
        "marts.province_lateness",
        "marts.province_lateness_current",
        "marts.province_satisfaction",
    }
    assert {"commune_lateness_current", "commune_scorecard_766", "commune_backlog_ageing"} <= rls


def test_a_filter_leaves_out_the_charts_it_cannot_filter(files: dict[str, dict]) -> None:
    """A native filter's column is applied to every chart in scope: only charts that have it."""
    for d in spec.DASHBOARDS:
        document = files[f"dashboards/{d.slug.replace('-', '_')}.yaml"]
        ids = {c.key: i for i, c in enumerate(d.charts, start=1)}
        for native in document["metadata"]["native_filter_configuration"]:
            (target,) = native["targets"]
            column = target["column"]["name"]
            (f,) = [f for f in d.filters if f.id == native["id"]]
            wanted = {
                ids[c.key]
                for c in d.charts
                if c.dataset.has_column(column) and c.key not in f.excluded
            }
            assert set(native["scope"]["excluded"]) == set(ids.values()) - wanted, (d.slug, f.key)
            # the importer maps scope.excluded to the real chart ids, not chartsInScope
            assert "chartsInScope" not in native, (d.slug, f.key)
    # e.g. the district totals are out of the commune filter, the backlog out of the period's
    lateness = files["dashboards/motcua_tre_han.yaml"]["metadata"]["native_filter_configuration"]
    (commune,) = [f for f in lateness if f["id"] == "NATIVE_FILTER-commune"]
    assert len(commune["scope"]["excluded"]) == 2  # district_lateness's two of 5
    index = files["dashboards/motcua_766.yaml"]["metadata"]["native_filter_configuration"]
    (period,) = [f for f in index if f["id"] == "NATIVE_FILTER-period_start"]
    assert len(period["scope"]["excluded"]) == 3  # the monthly line and the backlog's two of 6


def test_every_dashboard_filters_by_province_and_period() -> None:
    for d in spec.DASHBOARDS:
        columns = {f.column for f in d.filters}
        assert columns & {"province_name", "province_code"}, d.slug
        assert columns & {"period_start", "survey_year"}, d.slug
        if d is not spec.PROVINCE:
            assert "commune_name" in columns, d.slug


def test_a_filter_on_a_column_its_dataset_lacks_is_refused() -> None:
    wrong = bundle.Filter("province", "Tỉnh", spec.DISTRICT_LATENESS, "province_name")
    with pytest.raises(ValueError, match="no column province_name"):
        bundle.Dashboard("x", "x", rows=(((spec.DISTRICT_LATENESS_TABLE, 12),),), filters=(wrong,))


def test_the_threshold_line_is_dbts(files: dict[str, dict]) -> None:
    project = yaml.safe_load(
        (Path(__file__).parents[2] / "dbt_project" / "dbt_project.yml").read_text("utf-8")
    )
    threshold = project["vars"]["late_threshold_pct"]
    chart = files["charts/late_rate_by_commune.yaml"]
    (line,) = chart["params"]["annotation_layers"]
    assert (line["annotationType"], line["value"]) == ("FORMULA", str(threshold))


def test_a_changed_chart_gets_a_new_uuid_and_the_rest_stay() -> None:
    chart = spec.LATE_RATE_BY_COMMUNE
    changed = bundle.Chart(**{**chart.__dict__, "title": chart.title + " (mới)"})
    assert changed.uuid != chart.uuid
    assert spec.LATENESS.uuid == bundle.stable_uuid("dashboard", "motcua-tre-han")
    assert spec.COMMUNE_LATENESS.uuid == bundle.stable_uuid("dataset", "marts.commune_lateness")


def test_make_bi_arguments_reach_the_bi_command(tmp_path: Path) -> None:
    """`make bi` calls `motcua bi --port N`: an option first must not be refused."""
    from motcua import cli

    with pytest.raises(SystemExit) as done:
        url = "postgresql://bi@127.0.0.1:5/wh"
        cli.main(["bi", "--port", "8099", "bundle", "--url", url, "--out", str(tmp_path)])
    assert done.value.code == 0
    assert (tmp_path / "motcua_superset.zip").stat().st_size > 0
