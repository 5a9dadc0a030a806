"""Superset's v1 import bundle, generated from the spec (``motcua.bi.spec``).

The bundle is what ``superset export-dashboards`` writes and ``superset
import-datasources`` / ``import-dashboards`` read: ``metadata.yaml``,
``databases/``, ``datasets/<db>/``, ``charts/``, ``dashboards/``. Writing it
from a small Python spec rather than by hand keeps the parts Superset wants
in several places in one: a chart's form data (what the browser draws) and
its saved query context (what ``/api/v1/chart/<id>/data/`` answers) come from
the same few lines, and dataset columns take their types and descriptions
from the dbt documentation of the marts.

No secret is written: the database URI names the BI login without a
password; Superset reads the password from ``BI_WAREHOUSE_PASSWORD`` when it
connects (``SQLALCHEMY_CUSTOM_PASSWORD_STORE`` in ``superset_config.py``).

UUIDs are derived from names (uuid5), so a re-import updates in place. A
chart's UUID also covers its content: Superset's dashboard import never
overwrites an existing chart, so a changed chart is imported as a new one
and the provisioning removes the charts no dashboard refers to any more.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from motcua import config

VERSION = "1.0.0"
NAMESPACE = uuid.UUID("6d1c3c1e-2114-4b6f-9a55-6e696e68686f")
BUNDLE_ROOT = "motcua_superset"
MANAGED_URL = "https://github.com/motcua-analytics (src/motcua/bi/spec.py)"
DATABASE_NAME = "Một cửa warehouse (bi_reader)"
SQL_TYPES = {
    "text": "TEXT",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITHOUT TIME ZONE",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "timestamptz": "TIMESTAMP WITH TIME ZONE",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "int": "INTEGER",
    "numeric": "NUMERIC",
    "boolean": "BOOLEAN",
}


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


# ---------------------------------------------------------------- the dbt documentation


@cache
def documented_columns() -> dict[str, dict[str, tuple[str, str]]]:
    """mart -> column -> (SQL type, description), from every ``_*models.yml`` of the marts.

    The marts are documented in ``_marts__models.yml`` and, for the 766 index,
    ``index766/_index766__models.yml``: every folder of ``models/marts``.
    """
    root = config.dbt_project_dir() / "models" / "marts"
    documented: dict[str, dict[str, tuple[str, str]]] = {}
    for path in sorted(root.rglob("_*models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            documented[model["name"]] = {
                col["name"]: (
                    SQL_TYPES.get(str(col.get("data_type", "text")).lower(), "TEXT"),
                    " ".join(str(col.get("description", "")).split()),
                )
                for col in model.get("columns", [])
            }
    return documented


@cache
def dbt_var(name: str) -> Any:
    """A threshold from dbt_project.yml (the one place the rule lives)."""
    project = yaml.safe_load((config.dbt_project_dir() / "dbt_project.yml").read_text("utf-8"))
    return project["vars"][name]


# ---------------------------------------------------------------- the spec's vocabulary


@dataclass(frozen=True)
class Metric:
    name: str
    expression: str
    label: str
    d3format: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One relation BI reads: a mart (columns from the dbt docs) or a listed view."""

    table: str
    schema: str = "marts"
    metrics: tuple[Metric, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)  # column -> display name
    columns: tuple[tuple[str, str], ...] = ()  # (name, SQL type) when not a dbt mart
    main_dttm_col: str | None = None

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def uuid(self) -> str:
        return stable_uuid("dataset", self.key)

    def column_types(self) -> dict[str, tuple[str, str]]:
        if self.columns:
            return {name: (sql_type, "") for name, sql_type in self.columns}
        documented = documented_columns()
        if self.table not in documented:
            raise ValueError(f"{self.key}: no such mart in _marts__models.yml")
        return documented[self.table]

    def has_column(self, name: str) -> bool:
        return name in self.column_types()


@dataclass(frozen=True)
class Chart:
    """A chart: its Superset viz type, form data and the one query it runs.

    ``columns`` are the query's dimensions (the first is the x axis of bar
    and line charts), ``metrics`` saved metric names of the dataset,
    ``filters`` fixed ``(column, operator, value)`` filters of the chart.
    """

    key: str
    title: str
    dataset: Dataset
    viz_type: str
    columns: tuple[str, ...]
    metrics: tuple[str, ...] = ()
    filters: tuple[tuple[str, str, Any], ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()  # (metric or column, ascending)
    options: dict[str, Any] = field(default_factory=dict)  # extra form data
    description: str = ""
    time_grain: str | None = None  # for a temporal x axis

    def __post_init__(self) -> None:
        names = {m.name for m in self.dataset.metrics}
        for metric in self.metrics:
            if metric not in names:
                raise ValueError(
                    f"chart {self.key}: {metric} is not a metric of {self.dataset.key}"
                )
        for column in [*self.columns, *(f[0] for f in self.filters)]:
            if not self.dataset.has_column(column):
                raise ValueError(f"chart {self.key}: {self.dataset.key} has no column {column}")

    # -- what Superset stores
    def _adhoc_filters(self) -> list[dict[str, Any]]:
        return [
            {
                "clause": "WHERE",
                "expressionType": "SIMPLE",
                "subject": col,
                "operator": op,
                "comparator": val,
                "filterOptionName": f"filter_{self.key}_{i}",
            }
            for i, (col, op, val) in enumerate(self.filters)
        ]

    def _query_filters(self) -> list[dict[str, Any]]:
        return [
            {"col": c, "op": op} if val is None else {"col": c, "op": op, "val": val}
            for c, op, val in self.filters
        ]

    def form_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "viz_type": self.viz_type,
            "datasource": "0__table",  # replaced by the importer
            "adhoc_filters": self._adhoc_filters(),
            "row_limit": 10000,
            "color_scheme": "supersetColors",
            "extra_form_data": {},
        }
        if self.viz_type == "table":
            data.update(
                query_mode="raw",
                all_columns=list(self.columns),
                order_by_cols=[json.dumps([c, asc]) for c, asc in self.order_by],
                server_pagination=False,
                include_search=True,
                show_cell_bars=False,
                table_timestamp_format="%Y-%m-%d",
            )
        else:
            data.update(
                x_axis=self.columns[0],
                groupby=list(self.columns[1:]),
                metrics=list(self.metrics),
                show_legend=True,
                legendType="scroll",
                legendOrientation="top",
                rich_tooltip=True,
                truncate_metric=True,
                x_axis_sort_asc=True,
                y_axis_format=",.2f",
                annotation_layers=[],
            )
            if self.time_grain:
                data["time_grain_sqla"] = self.time_grain
                data["x_axis_time_format"] = "%m/%Y"
        data.update(self.options)
        return data

    def query(self) -> dict[str, Any]:
        """The query object Superset's chart data API runs for this chart."""
        if self.viz_type == "table":
            columns: list[Any] = list(self.columns)
        else:
            axis: dict[str, Any] = {
                "columnType": "BASE_AXIS",
                "sqlExpression": self.columns[0],
                "label": self.columns[0],
                "expressionType": "SQL",
            }
            if self.time_grain:
                axis["timeGrain"] = self.time_grain
            columns = [axis, *self.columns[1:]]
        query: dict[str, Any] = {
            "filters": self._query_filters(),
            "extras": {"having": "", "where": ""},
            "applied_time_extras": {},
            "columns": columns,
            "metrics": list(self.metrics),
            "orderby": [[c, asc] for c, asc in self.order_by],
            "annotation_layers": [],
            "row_limit": 10000,
            "series_limit": 0,
            "order_desc": True,
            "url_params": {},
            "custom_params": {},
            "custom_form_data": {},
            "post_processing": [],
        }
        if self.viz_type != "table":
            query["series_columns"] = list(self.columns[1:])
        return query

    def query_context(self) -> dict[str, Any]:
        return {
            "datasource": {"id": 0, "type": "table"},
            "force": False,
            "queries": [self.query()],
            "form_data": self.form_data(),
            "result_format": "json",
            "result_type": "full",
        }

    def body(self) -> dict[str, Any]:
        return {
            "slice_name": self.title,
            "description": self.description or None,
            "certified_by": None,
            "certification_details": None,
            "viz_type": self.viz_type,
            "params": self.form_data(),
            "query_context": json.dumps(self.query_context(), ensure_ascii=False, sort_keys=True),
            "cache_timeout": None,
            "dataset_uuid": self.dataset.uuid,
            "is_managed_externally": True,
            "external_url": MANAGED_URL,
            "version": VERSION,
        }

    @property
    def uuid(self) -> str:
        digest = hashlib.sha256(json.dumps(self.body(), sort_keys=True).encode()).hexdigest()
        return stable_uuid("chart", self.key, digest[:16])


def threshold_line(value: float, name: str) -> dict[str, Any]:
    """A horizontal line on a bar or line chart (a formula annotation, drawn client-side)."""
    return {
        "name": name,
        "annotationType": "FORMULA",
        "sourceType": "",
        "value": str(value),
        "show": True,
        "showLabel": True,
        "hideLine": False,
        "style": "dashed",
        "width": 2,
        "color": "#d32f2f",  # the chart data API wants a string
        "opacity": "",
        "overrides": {},
        "titleColumn": "",
        "descriptionColumns": [],
        "timeColumn": "",
        "intervalEndColumn": "",
        "showMarkers": False,
    }


@dataclass(frozen=True)
class Filter:
    """A native dashboard filter (a select on one column of one dataset)."""

    key: str
    name: str
    dataset: Dataset
    column: str
    multi: bool = True
    required: bool = False
    default: tuple[str, ...] = ()
    # newest (largest) value first in the list. Not "default to first item": Superset
    # 6.1 selects it without applying it until "Apply filters" is clicked, so the
    # charts would show every period under a filter that says one.
    newest_first: bool = False
    parent: str | None = None  # key of the filter this one cascades from
    excluded: tuple[str, ...] = ()  # keys of charts it does not apply to

    @property
    def id(self) -> str:
        return f"NATIVE_FILTER-{self.key}"


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    rows: tuple[tuple[tuple[Chart, int], ...], ...]  # rows of (chart, width of 12)
    filters: tuple[Filter, ...] = ()
    description: str = ""
    height: int = 60

    def __post_init__(self) -> None:
        keys = {chart.key for chart in self.charts}
        filters = {f.key for f in self.filters}
        for f in self.filters:
            if not f.dataset.has_column(f.column):
                raise ValueError(f"filter {f.key}: {f.dataset.key} has no column {f.column}")
            if unknown := set(f.excluded) - keys:
                raise ValueError(f"filter {f.key} excludes charts not on {self.slug}: {unknown}")
            if f.parent is not None and f.parent not in filters:
                raise ValueError(f"filter {f.key}: no parent filter {f.parent} on {self.slug}")

    @property
    def uuid(self) -> str:
        return stable_uuid("dashboard", self.slug)

    @property
    def charts(self) -> list[Chart]:
        return [chart for row in self.rows for chart, _ in row]


# ---------------------------------------------------------------- rendering


def _database(uri: str) -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "impersonate_user": False,
        "extra": {
            "allows_virtual_table_explore": True,
            "metadata_params": {},
            # dates stay dates: date_trunc() on a date is a timestamptz in the
            # session's time zone, so the session runs in UTC like Superset
            "engine_params": {"connect_args": {"options": "-c timezone=UTC"}},
            "schemas_allowed_for_file_upload": [],
        },
        "uuid": database_uuid(uri),
        "is_managed_externally": True,
        "external_url": MANAGED_URL,
        "version": VERSION,
    }


def database_uuid(uri: str) -> str:
    """One database object per login and server: a new URI is a new connection."""
    return stable_uuid("database", uri)


def _dataset(ds: Dataset, db_uuid: str) -> dict[str, Any]:
    columns = []
    for name, (sql_type, description) in ds.column_types().items():
        columns.append(
            {
                "column_name": name,
                "verbose_name": ds.labels.get(name),
                "is_dttm": sql_type.startswith(("DATE", "TIMESTAMP")),
                "is_active": True,
                "type": sql_type,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": description or None,
                "python_date_format": None,
                "advanced_data_type": None,
                "extra": {},
            }
        )
    return {
        "table_name": ds.table,
        "main_dttm_col": ds.main_dttm_col,
        "description": None,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": ds.schema,
        "catalog": None,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": ds.uuid,
        "metrics": [
            {
                "metric_name": m.name,
                "verbose_name": m.label,
                "metric_type": None,
                "expression": m.expression,
                "description": None,
                "d3format": m.d3format,
                "extra": {},
                "warning_text": None,
            }
            for m in ds.metrics
        ],
        "columns": columns,
        "is_managed_externally": True,
        "external_url": MANAGED_URL,
        "version": VERSION,
        "database_uuid": db_uuid,
    }


def _filter(f: Filter, charts: list[Chart], chart_ids: dict[str, int]) -> dict[str, Any]:
    """A native filter; out of its scope the charts it names and those it cannot filter.

    A native filter applies its column to every chart in scope, whatever the
    chart's dataset: a chart whose dataset has no such column (the district
    totals under a commune filter, the backlog under a period filter) is left
    out rather than sent a filter on a column it does not have. The scope is
    ``scope.excluded`` only: the importer maps those placeholder chart ids to
    the real ones but leaves ``chartsInScope`` as written, which would then
    name other dashboards' charts; without it Superset works it out from the
    scope.
    """
    excluded = set(f.excluded) | {c.key for c in charts if not c.dataset.has_column(f.column)}
    default_value = list(f.default) or None
    extra: dict[str, Any] = {}
    if default_value:
        extra = {"filters": [{"col": f.column, "op": "IN", "val": default_value}]}
    return {
        "id": f.id,
        "name": f.name,
        "type": "NATIVE_FILTER",
        "filterType": "filter_select",
        "targets": [{"column": {"name": f.column}, "datasetUuid": f.dataset.uuid}],
        "cascadeParentIds": [f"NATIVE_FILTER-{f.parent}"] if f.parent else [],
        "controlValues": {
            "multiSelect": f.multi,
            "enableEmptyFilter": f.required,
            "defaultToFirstItem": False,
            "inverseSelection": False,
            "searchAllOptions": False,
            "sortAscending": not f.newest_first,
        },
        "defaultDataMask": {
            "extraFormData": extra,
            "filterState": {"value": default_value} if default_value else {},
            "ownState": {},
        },
        "description": "",
        "scope": {
            "rootPath": ["ROOT_ID"],
            "excluded": [cid for key, cid in chart_ids.items() if key in excluded],
        },
        "tabsInScope": [],
    }


def _dashboard(d: Dashboard) -> dict[str, Any]:
    # placeholder chart ids (1, 2, ...): the importer maps them to the real ones
    chart_ids = {chart.key: i for i, chart in enumerate(d.charts, start=1)}
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT", "children": ["GRID_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": d.title}},
        "GRID_ID": {"id": "GRID_ID", "type": "GRID", "parents": ["ROOT_ID"], "children": []},
    }
    for r, row in enumerate(d.rows):
        row_id = f"ROW-{d.slug}-{r}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "id": row_id,
            "type": "ROW",
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
            "children": [],
        }
        for chart, width in row:
            chart_id = f"CHART-{chart.key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "id": chart_id,
                "type": "CHART",
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "children": [],
                "meta": {
                    "chartId": chart_ids[chart.key],
                    "uuid": chart.uuid,
                    "sliceName": chart.title,
                    "width": width,
                    "height": d.height,
                },
            }
    return {
        "dashboard_title": d.title,
        "description": d.description or None,
        "css": "",
        "slug": d.slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": d.uuid,
        "position": position,
        "metadata": {
            "native_filter_configuration": [_filter(f, d.charts, chart_ids) for f in d.filters],
            "chart_configuration": {},
            "global_chart_configuration": {},
            "color_scheme": "supersetColors",
            "label_colors": {},
            "shared_label_colors": [],
            "map_label_colors": {},
            "color_scheme_domain": [],
            "cross_filters_enabled": False,
            "expanded_slices": {},
            "refresh_frequency": 0,
            "timed_refresh_immune_slices": [],
            "default_filters": "{}",
        },
        "is_managed_externally": True,
        "external_url": MANAGED_URL,
        "version": VERSION,
    }


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def render(
    uri: str, datasets: list[Dataset], dashboards: list[Dashboard]
) -> dict[str, dict[str, Any]]:
    """Path inside the bundle -> YAML document, for the BI login's ``uri`` (no password)."""
    from motcua.config import parse_pg_url

    if parse_pg_url(uri).password:
        raise ValueError("the bundle never holds a password: pass the URI without one")
    files: dict[str, dict[str, Any]] = {
        # no "type": the same bundle feeds import-datasources and import-dashboards
        "metadata.yaml": {"version": VERSION, "timestamp": "2017-07-14T00:00:00"},
        "databases/motcua_warehouse.yaml": _database(uri),
    }
    db_uuid = database_uuid(uri)
    for ds in datasets:
        files[f"datasets/motcua_warehouse/{ds.schema}.{ds.table}.yaml"] = _dataset(ds, db_uuid)
    for d in dashboards:
        for chart in d.charts:
            files[f"charts/{_slug(chart.key)}.yaml"] = {**chart.body(), "uuid": chart.uuid}
        files[f"dashboards/{_slug(d.slug)}.yaml"] = _dashboard(d)
    return files


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=True, width=100)


def write_zip(files: dict[str, dict[str, Any]], path: Path) -> Path:
    """The ZIP ``superset import-dashboards -p`` takes (every file under one root folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{name}", date_time=(2017, 7, 14, 0, 0, 0))
            bundle.writestr(info, dump(files[name]))
    path.write_bytes(buffer.getvalue())
    return path


def write_directory(files: dict[str, dict[str, Any]], root: Path) -> Path:
    """The same files unpacked, for reading and diffing."""
    for name, document in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump(document), encoding="utf-8")
    return root
