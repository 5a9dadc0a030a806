"""The BI assets: datasets on the marts, charts and dashboards. Edit here, then re-import.

To add a mart: one ``Dataset`` line (its columns, types and descriptions come
from ``dbt_project/models/marts/_marts__models.yml``), and add it to
``DATASETS``. To add a chart: a ``Chart`` on a dataset (dimensions, saved
metrics, fixed filters) and put it in a dashboard row. ``python -m motcua bi
import`` (or ``make bi``) re-imports; README "BI: Superset" says more.

Every figure is the warehouse's: charts show the marts' columns (MAX over a
grain where the chart's dimensions make each group one mart row), never a
rule recomputed here. The only number of a rule used here, the lateness
threshold line, is read from ``dbt_project.yml``.
"""

from __future__ import annotations

from motcua.bi.bundle import Chart, Dashboard, Dataset, Filter, Metric, dbt_var, threshold_line

PERIOD = ("period_type", "period_start")
# The marts have a row for every unit valid in a period (the whole province),
# zeros where nothing happened: charts show the units with something to show.
HAS_LATE_RATE = ("late_rate", "IS NOT NULL", None)
HAS_DOSSIERS = ("dossiers", ">", 0)
HAS_RESPONSES = ("responses", ">", 0)
NAMES = {
    "commune_name": "Xã / phường",
    "commune_code": "Mã đơn vị",
    "district_name": "Huyện / thị xã",
    "period_type": "Loại kỳ",
    "period_start": "Từ ngày",
    "period_end": "Đến ngày",
    "cut_off_date": "Số liệu đến ngày",
    "late_rate": "Tỷ lệ trễ hạn (%)",
    "over_threshold": "Vượt ngưỡng",
    "survey_year": "Năm",
    "agency_type": "Cơ quan",
    "satisfaction_index": "Chỉ số hài lòng (%)",
    "rating": "Xếp loại",
    "target": "Mục tiêu (%)",
    "meets_target": "Đạt mục tiêu",
    "completeness_rate": "Đủ thông tin liên lạc (%)",
}

# ---------------------------------------------------------------- datasets

COMMUNE_LATENESS = Dataset(
    "commune_lateness",
    metrics=(
        Metric("late_rate_pct", "MAX(late_rate)", "Tỷ lệ trễ hạn (%)", ",.2f"),
        Metric("received", "SUM(received_total)", "Hồ sơ tiếp nhận", ",d"),
        Metric("late", "SUM(late_total)", "Hồ sơ trễ hạn", ",d"),
    ),
    labels=NAMES,
    main_dttm_col="period_start",
)
DISTRICT_LATENESS = Dataset(
    "district_lateness",
    metrics=(
        Metric("late_rate_pct", "MAX(late_rate)", "Tỷ lệ trễ hạn (%)", ",.2f"),
        Metric("received", "SUM(received_total)", "Hồ sơ tiếp nhận", ",d"),
    ),
    labels=NAMES,
    main_dttm_col="period_start",
)
COMMUNE_SATISFACTION = Dataset(
    "commune_satisfaction",
    metrics=(Metric("satisfaction_pct", "MAX(satisfaction_index)", "Chỉ số hài lòng (%)", ",.2f"),),
    labels=NAMES,
)
DISTRICT_SATISFACTION = Dataset(
    "district_satisfaction",
    metrics=(Metric("satisfaction_pct", "MAX(satisfaction_index)", "Chỉ số hài lòng (%)", ",.2f"),),
    labels=NAMES,
)
CONTACT = Dataset(
    "commune_contact_completeness",
    metrics=(
        Metric("completeness_pct", "MAX(completeness_rate)", "Đủ thông tin liên lạc (%)", ",.2f"),
    ),
    labels=NAMES,
    main_dttm_col="period_start",
)
DIM_COMMUNE = Dataset("dim_commune", labels=NAMES)
FCT_DOSSIER = Dataset("fct_dossier", labels=NAMES, main_dttm_col="received_date")
DUE_SOON = Dataset("dossiers_due_soon", labels=NAMES)
DQ_RESULTS = Dataset(
    "latest_results_by_commune",
    schema="dq",
    columns=(
        ("commune_code", "TEXT"),
        ("checkpoint", "TEXT"),
        ("suite", "TEXT"),
        ("check_name", "TEXT"),
        ("column_name", "TEXT"),
        ("window_name", "TEXT"),
        ("severity", "TEXT"),
        ("success", "BOOLEAN"),
        ("run_date", "DATE"),
        ("checked_at", "TIMESTAMP WITH TIME ZONE"),
        ("period_start", "DATE"),
        ("period_end", "DATE"),
        ("element_count", "BIGINT"),
        ("unexpected_count", "BIGINT"),
        ("affected_count", "BIGINT"),
        ("observed_value", "NUMERIC"),
        ("threshold", "NUMERIC"),
        ("has_error", "BOOLEAN"),
    ),
)

DATASETS = [
    COMMUNE_LATENESS,
    DISTRICT_LATENESS,
    COMMUNE_SATISFACTION,
    DISTRICT_SATISFACTION,
    CONTACT,
    DIM_COMMUNE,
    FCT_DOSSIER,
    DUE_SOON,
    DQ_RESULTS,
]

# ---------------------------------------------------------------- lateness

THRESHOLD = dbt_var("late_threshold_pct")

LATE_RATE_BY_COMMUNE = Chart(
    "late_rate_by_commune",
    f"Tỷ lệ trễ hạn theo xã, ngưỡng {THRESHOLD} %",
    COMMUNE_LATENESS,
    "echarts_timeseries_bar",
    columns=("commune_name", *PERIOD),
    metrics=("late_rate_pct",),
    options={
        "annotation_layers": [threshold_line(THRESHOLD, f"Ngưỡng {THRESHOLD} %")],
        "y_axis_title": "%",
    },
    description="Resolved late + in progress overdue, over resolved + in progress (docs/rules.md).",
    filters=(HAS_LATE_RATE,),
)
LATENESS_TABLE = Chart(
    "lateness_table",
    "Trễ hạn theo xã",
    COMMUNE_LATENESS,
    "table",
    columns=(
        "commune_name",
        "commune_code",
        *PERIOD,
        "cut_off_date",
        "received_total",
        "resolved_total",
        "in_progress_total",
        "late_total",
        "late_rate",
        "over_threshold",
        "late_without_apology",
    ),
    order_by=(("late_rate", False), ("commune_code", True)),
    filters=(HAS_LATE_RATE,),
)
DISTRICT_LATENESS_TABLE = Chart(
    "district_lateness_table",
    "Trễ hạn toàn huyện / thị xã",
    DISTRICT_LATENESS,
    "table",
    columns=(
        "district_name",
        *PERIOD,
        "cut_off_date",
        "received_total",
        "late_total",
        "late_rate",
        "over_threshold",
        "communes_over_threshold",
    ),
    order_by=(("period_start", False), ("district_name", True)),
    filters=(HAS_LATE_RATE,),
)
MONTHLY_LATE_RATE = Chart(
    "monthly_late_rate",
    "Tỷ lệ trễ hạn theo tháng",
    DISTRICT_LATENESS,
    "echarts_timeseries_line",
    columns=("period_start", "district_name"),
    metrics=("late_rate_pct",),
    filters=(
        HAS_LATE_RATE,
        ("period_type", "==", "month"),
    ),
    time_grain="P1M",
    options={"annotation_layers": [threshold_line(THRESHOLD, f"Ngưỡng {THRESHOLD} %")]},
)
MONTHLY_RECEIVED = Chart(
    "monthly_received",
    "Hồ sơ tiếp nhận theo tháng",
    COMMUNE_LATENESS,
    "echarts_timeseries_bar",
    columns=("period_start",),
    metrics=("received",),
    filters=(("period_type", "==", "month"),),
    time_grain="P1M",
    options={"y_axis_format": ",d"},
)

COMMUNE = Filter("commune", "Xã / phường", COMMUNE_LATENESS, "commune_name")
PERIOD_TYPE = Filter(
    "period_type",
    "Loại kỳ",
    COMMUNE_LATENESS,
    "period_type",
    multi=False,
    required=True,
    default=("half_year",),
    excluded=("monthly_late_rate", "monthly_received"),
)
PERIOD_START = Filter(
    "period_start",
    "Kỳ",
    COMMUNE_LATENESS,
    "period_start",
    multi=False,
    required=True,
    first_item=True,
    parent="period_type",
    excluded=("monthly_late_rate", "monthly_received"),
)

LATENESS = Dashboard(
    "motcua-tre-han",
    "Trễ hạn giải quyết hồ sơ",
    rows=(
        ((LATE_RATE_BY_COMMUNE, 12),),
        ((LATENESS_TABLE, 8), (DISTRICT_LATENESS_TABLE, 4)),
        ((MONTHLY_LATE_RATE, 6), (MONTHLY_RECEIVED, 6)),
    ),
    filters=(COMMUNE, PERIOD_TYPE, PERIOD_START),
    description="Công văn 2114/UBND: which communes have more than 10 % of dossiers late.",
)

# ---------------------------------------------------------------- satisfaction

SATISFACTION_BY_COMMUNE = Chart(
    "satisfaction_by_commune",
    "Chỉ số hài lòng theo xã, theo xếp loại",
    COMMUNE_SATISFACTION,
    "echarts_timeseries_bar",
    columns=("commune_name", "survey_year", "agency_type", "rating"),
    metrics=("satisfaction_pct",),
    options={"stack": "Stack"},
    filters=(HAS_RESPONSES,),
)
SATISFACTION_TABLE = Chart(
    "satisfaction_table",
    "Hài lòng so với mục tiêu",
    COMMUNE_SATISFACTION,
    "table",
    columns=(
        "commune_name",
        "survey_year",
        "agency_type",
        "responses",
        "satisfaction_index",
        "target",
        "meets_target",
        "rating",
        "reliable",
        "idx_access",
        "idx_procedure",
        "idx_staff",
        "idx_result",
        "idx_feedback",
    ),
    order_by=(("satisfaction_index", True), ("commune_name", True)),
    filters=(HAS_RESPONSES,),
)
DISTRICT_SATISFACTION_TABLE = Chart(
    "district_satisfaction_table",
    "Hài lòng toàn huyện / thị xã",
    DISTRICT_SATISFACTION,
    "table",
    columns=(
        "district_name",
        "survey_year",
        "agency_type",
        "responses",
        "satisfaction_index",
        "target",
        "meets_target",
        "rating",
    ),
    order_by=(("survey_year", False), ("agency_type", True)),
    filters=(HAS_RESPONSES,),
)

SATISFACTION = Dashboard(
    "motcua-hai-long",
    "Hài lòng của người dân",
    rows=(
        ((SATISFACTION_BY_COMMUNE, 12),),
        ((SATISFACTION_TABLE, 8), (DISTRICT_SATISFACTION_TABLE, 4)),
    ),
    filters=(
        Filter("commune", "Xã / phường", COMMUNE_SATISFACTION, "commune_name"),
        Filter(
            "survey_year",
            "Năm",
            COMMUNE_SATISFACTION,
            "survey_year",
            multi=False,
            required=True,
            first_item=True,
        ),
        Filter(
            "agency_type",
            "Cơ quan",
            COMMUNE_SATISFACTION,
            "agency_type",
            multi=False,
            required=True,
            default=("UBND",),
        ),
    ),
    description="Satisfaction index per commune against the year's target, by rating band.",
)

# ---------------------------------------------------------------- contact completeness

COMPLETENESS_BY_COMMUNE = Chart(
    "completeness_by_commune",
    "Hồ sơ đủ địa chỉ, điện thoại, email (%)",
    CONTACT,
    "echarts_timeseries_bar",
    columns=("commune_name", *PERIOD),
    metrics=("completeness_pct",),
    filters=(HAS_DOSSIERS,),
)
COMPLETENESS_TABLE = Chart(
    "completeness_table",
    "Thông tin liên lạc theo xã",
    CONTACT,
    "table",
    columns=(
        "commune_name",
        *PERIOD,
        "dossiers",
        "address_present",
        "phone_valid",
        "email_valid",
        "contact_complete",
        "completeness_rate",
    ),
    order_by=(("completeness_rate", True), ("commune_name", True)),
    filters=(HAS_DOSSIERS,),
)

CONTACTS = Dashboard(
    "motcua-lien-lac",
    "Thông tin liên lạc của người nộp hồ sơ",
    rows=(((COMPLETENESS_BY_COMMUNE, 12),), ((COMPLETENESS_TABLE, 12),)),
    filters=(
        Filter("commune", "Xã / phường", CONTACT, "commune_name"),
        Filter(
            "period_type",
            "Loại kỳ",
            CONTACT,
            "period_type",
            multi=False,
            required=True,
            default=("half_year",),
        ),
        Filter(
            "period_start",
            "Kỳ",
            CONTACT,
            "period_start",
            multi=False,
            required=True,
            first_item=True,
            parent="period_type",
        ),
    ),
    description="Dossiers received with address, valid phone and valid email.",
)

DASHBOARDS = [LATENESS, SATISFACTION, CONTACTS]
