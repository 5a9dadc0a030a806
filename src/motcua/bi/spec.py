"""The BI assets: datasets on the marts, charts and dashboards. Edit here, then re-import.

To add a mart: one ``Dataset`` line (its columns, types and descriptions come
from the marts' dbt documentation, ``dbt_project/models/marts/_marts__models.yml``
and ``index766/_index766__models.yml``), and add it to
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
    "province_code": "Mã tỉnh",
    "province_name": "Tỉnh / thành phố",
    "communes": "Số đơn vị",
    "communes_over_threshold": "Số xã vượt ngưỡng",
    "communes_below_target": "Số xã dưới mục tiêu",
    "communes_rated": "Số xã có chỉ số",
    "points_total": "Tổng điểm 766",
    "max_points_computable": "Điểm tối đa tính được",
    "rank_in_province": "Xếp hạng trong tỉnh",
    "points_change": "Thay đổi so với kỳ trước",
    "points_progress": "Tiến độ giải quyết",
    "points_online_payment": "Thanh toán trực tuyến",
    "points_satisfaction": "Mức độ hài lòng",
    "points_digitisation": "Số hóa hồ sơ",
    "indicators_applicable": "Chỉ tiêu tính được",
    "procedure_code": "Mã thủ tục",
    "procedure_name": "Thủ tục",
    "resolved": "Hồ sơ đã giải quyết",
    "mean_working_days": "Trung bình (ngày làm việc)",
    "median_working_days": "Trung vị (ngày làm việc)",
    "p90_working_days": "90 % hồ sơ trong (ngày làm việc)",
    "legal_working_days": "Thời hạn (ngày làm việc)",
    "as_of_date": "Đến ngày",
    "age_band_label": "Tuổi hồ sơ",
    "open_dossiers": "Hồ sơ đang giải quyết",
    "max_working_days_late": "Trễ nhiều nhất (ngày làm việc)",
    "oldest_dossier_codes": "Mã hồ sơ cũ nhất",
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
LATENESS_METRICS = (
    Metric("late_rate_pct", "MAX(late_rate)", "Tỷ lệ trễ hạn (%)", ",.2f"),
    Metric("received", "SUM(received_total)", "Hồ sơ tiếp nhận", ",d"),
    Metric("late", "SUM(late_total)", "Hồ sơ trễ hạn", ",d"),
)
# today's units (docs/map.md): the same measures on the units valid on the run date
COMMUNE_LATENESS_CURRENT = Dataset(
    "commune_lateness_current",
    metrics=LATENESS_METRICS,
    labels=NAMES,
    main_dttm_col="period_start",
)
PROVINCE_LATENESS = Dataset(
    "province_lateness",
    metrics=LATENESS_METRICS,
    labels=NAMES,
    main_dttm_col="period_start",
)
PROVINCE_LATENESS_CURRENT = Dataset(
    "province_lateness_current",
    metrics=LATENESS_METRICS,
    labels=NAMES,
    main_dttm_col="period_start",
)
PROVINCE_SATISFACTION = Dataset(
    "province_satisfaction",
    metrics=(Metric("satisfaction_pct", "MAX(satisfaction_index)", "Chỉ số hài lòng (%)", ",.2f"),),
    labels=NAMES,
)
# the 766 index (docs/index766.md)
SCORECARD_766 = Dataset(
    "commune_scorecard_766",
    metrics=(
        Metric("points", "MAX(points_total)", "Tổng điểm 766", ",.2f"),
        Metric("max_points", "MAX(max_points_computable)", "Điểm tối đa tính được", ",.2f"),
    ),
    labels=NAMES,
    main_dttm_col="period_start",
)
PROCESSING_TIME = Dataset(
    "commune_processing_time",
    metrics=(
        Metric("mean_days", "MAX(mean_working_days)", "Trung bình (ngày làm việc)", ",.2f"),
        Metric("legal_days", "MAX(legal_working_days)", "Thời hạn (ngày làm việc)", ",d"),
    ),
    labels=NAMES,
    main_dttm_col="period_start",
)
BACKLOG = Dataset(
    "commune_backlog_ageing",
    metrics=(Metric("open", "MAX(open_dossiers)", "Hồ sơ đang giải quyết", ",d"),),
    labels=NAMES,
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
    COMMUNE_LATENESS_CURRENT,
    PROVINCE_LATENESS,
    PROVINCE_LATENESS_CURRENT,
    PROVINCE_SATISFACTION,
    SCORECARD_766,
    PROCESSING_TIME,
    BACKLOG,
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

MONTHLY = ("monthly_late_rate", "monthly_received")  # their own months: no period filter

LATENESS_FILTERS = (
    Filter("province", "Tỉnh / thành phố", COMMUNE_LATENESS, "province_name"),
    Filter("commune", "Xã / phường", COMMUNE_LATENESS, "commune_name", parent="province"),
    Filter(
        "period_type",
        "Loại kỳ",
        COMMUNE_LATENESS,
        "period_type",
        multi=False,
        required=True,
        default=("half_year",),
        excluded=MONTHLY,
    ),
    Filter(
        "period_start",
        "Kỳ",
        COMMUNE_LATENESS,
        "period_start",
        multi=False,
        newest_first=True,
        parent="period_type",
        excluded=MONTHLY,
    ),
)

LATENESS = Dashboard(
    "motcua-tre-han",
    "Trễ hạn giải quyết hồ sơ",
    rows=(
        ((LATE_RATE_BY_COMMUNE, 12),),
        ((LATENESS_TABLE, 8), (DISTRICT_LATENESS_TABLE, 4)),
        ((MONTHLY_LATE_RATE, 6), (MONTHLY_RECEIVED, 6)),
    ),
    filters=LATENESS_FILTERS,
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
        Filter("province", "Tỉnh / thành phố", COMMUNE_SATISFACTION, "province_name"),
        Filter("commune", "Xã / phường", COMMUNE_SATISFACTION, "commune_name", parent="province"),
        Filter(
            "survey_year",
            "Năm",
            COMMUNE_SATISFACTION,
            "survey_year",
            multi=False,
            newest_first=True,
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
        Filter("province", "Tỉnh / thành phố", CONTACT, "province_name"),
        Filter("commune", "Xã / phường", CONTACT, "commune_name", parent="province"),
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
            newest_first=True,
            parent="period_type",
        ),
    ),
    description="Dossiers received with address, valid phone and valid email.",
)

# ---------------------------------------------------------------- today's units

LATE_RATE_BY_COMMUNE_CURRENT = Chart(
    "late_rate_by_commune_current",
    f"Tỷ lệ trễ hạn theo đơn vị hiện nay, ngưỡng {THRESHOLD} %",
    COMMUNE_LATENESS_CURRENT,
    "echarts_timeseries_bar",
    columns=("commune_name", *PERIOD),
    metrics=("late_rate_pct",),
    options={
        "annotation_layers": [threshold_line(THRESHOLD, f"Ngưỡng {THRESHOLD} %")],
        "y_axis_title": "%",
    },
    description="Each unit of today with the dossiers of the units that became it (docs/map.md).",
    filters=(HAS_LATE_RATE,),
)
LATENESS_CURRENT_TABLE = Chart(
    "lateness_current_table",
    "Trễ hạn theo đơn vị hiện nay",
    COMMUNE_LATENESS_CURRENT,
    "table",
    columns=(
        "province_name",
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
    ),
    order_by=(("late_rate", False), ("commune_code", True)),
    filters=(HAS_LATE_RATE,),
)
PROVINCE_LATENESS_CURRENT_TABLE = Chart(
    "province_lateness_current_table",
    "Trễ hạn toàn tỉnh, đơn vị hiện nay",
    PROVINCE_LATENESS_CURRENT,
    "table",
    columns=(
        "province_name",
        *PERIOD,
        "cut_off_date",
        "received_total",
        "late_total",
        "late_rate",
        "over_threshold",
        "communes_over_threshold",
    ),
    order_by=(("period_start", False), ("province_name", True)),
    filters=(HAS_LATE_RATE,),
)

CURRENT = Dashboard(
    "motcua-tre-han-hien-nay",
    "Trễ hạn theo đơn vị hành chính hiện nay",
    rows=(
        ((LATE_RATE_BY_COMMUNE_CURRENT, 12),),
        ((LATENESS_CURRENT_TABLE, 8), (PROVINCE_LATENESS_CURRENT_TABLE, 4)),
    ),
    filters=(
        Filter("province", "Tỉnh / thành phố", COMMUNE_LATENESS_CURRENT, "province_name"),
        Filter(
            "commune", "Xã / phường", COMMUNE_LATENESS_CURRENT, "commune_name", parent="province"
        ),
        Filter(
            "period_type",
            "Loại kỳ",
            COMMUNE_LATENESS_CURRENT,
            "period_type",
            multi=False,
            required=True,
            default=("half_year",),
        ),
        Filter(
            "period_start",
            "Kỳ",
            COMMUNE_LATENESS_CURRENT,
            "period_start",
            multi=False,
            newest_first=True,
            parent="period_type",
        ),
    ),
    description="The lateness of 'Trễ hạn giải quyết hồ sơ' on today's units (docs/map.md).",
)

# ---------------------------------------------------------------- the province

PROVINCE_LATENESS_TABLE = Chart(
    "province_lateness_table",
    "Trễ hạn toàn tỉnh (theo đơn vị khi tiếp nhận)",
    PROVINCE_LATENESS,
    "table",
    columns=(
        "province_name",
        *PERIOD,
        "cut_off_date",
        "communes",
        "received_total",
        "resolved_total",
        "in_progress_total",
        "late_total",
        "late_rate",
        "over_threshold",
        "communes_over_threshold",
        "late_without_apology",
    ),
    order_by=(("period_start", False), ("province_name", True)),
    filters=(HAS_LATE_RATE,),
)
PROVINCE_MONTHLY_LATE_RATE = Chart(
    "province_monthly_late_rate",
    "Tỷ lệ trễ hạn toàn tỉnh theo tháng",
    PROVINCE_LATENESS,
    "echarts_timeseries_line",
    columns=("period_start", "province_name"),
    metrics=("late_rate_pct",),
    filters=(HAS_LATE_RATE, ("period_type", "==", "month")),
    time_grain="P1M",
    options={"annotation_layers": [threshold_line(THRESHOLD, f"Ngưỡng {THRESHOLD} %")]},
)
PROVINCE_SATISFACTION_BY_SERVICE = Chart(
    "province_satisfaction_by_service",
    "Chỉ số hài lòng toàn tỉnh theo cơ quan, theo xếp loại",
    PROVINCE_SATISFACTION,
    "echarts_timeseries_bar",
    columns=("agency_type", "province_name", "survey_year", "rating"),
    metrics=("satisfaction_pct",),
    options={"stack": "Stack"},
    filters=(HAS_RESPONSES,),
)
PROVINCE_SATISFACTION_TABLE = Chart(
    "province_satisfaction_table",
    "Hài lòng toàn tỉnh so với mục tiêu",
    PROVINCE_SATISFACTION,
    "table",
    columns=(
        "province_name",
        "survey_year",
        "agency_type",
        "responses",
        "satisfaction_index",
        "target",
        "meets_target",
        "rating",
        "reliable",
        "communes_rated",
        "communes_below_target",
    ),
    order_by=(("survey_year", False), ("agency_type", True)),
    filters=(HAS_RESPONSES,),
)

PROVINCE = Dashboard(
    "motcua-tinh",
    "Toàn tỉnh: trễ hạn và hài lòng",
    rows=(
        ((PROVINCE_LATENESS_TABLE, 8), (PROVINCE_MONTHLY_LATE_RATE, 4)),
        ((PROVINCE_SATISFACTION_BY_SERVICE, 6), (PROVINCE_SATISFACTION_TABLE, 6)),
    ),
    filters=(
        Filter("province", "Tỉnh / thành phố", PROVINCE_LATENESS, "province_name"),
        Filter(
            "period_type",
            "Loại kỳ",
            PROVINCE_LATENESS,
            "period_type",
            multi=False,
            required=True,
            default=("half_year",),
            excluded=("province_monthly_late_rate",),
        ),
        Filter(
            "period_start",
            "Kỳ",
            PROVINCE_LATENESS,
            "period_start",
            multi=False,
            newest_first=True,
            parent="period_type",
            excluded=("province_monthly_late_rate",),
        ),
        Filter(
            "survey_year",
            "Năm khảo sát",
            PROVINCE_SATISFACTION,
            "survey_year",
            multi=False,
            newest_first=True,
        ),
    ),
    description="Province totals as received (units as they were): lateness and satisfaction.",
)

# ---------------------------------------------------------------- the 766 index

HAS_POINTS = ("points_total", "IS NOT NULL", None)

POINTS_BY_COMMUNE = Chart(
    "points_766_by_commune",
    "Điểm 766 theo xã so với điểm tối đa tính được",
    SCORECARD_766,
    "echarts_timeseries_bar",
    columns=("commune_name", *PERIOD),
    metrics=("points", "max_points"),
    description="What the dossiers can tell (docs/index766.md); the portal's score is official.",
    filters=(HAS_POINTS,),
)
SCORECARD_TABLE = Chart(
    "scorecard_766_table",
    "Bảng điểm 766: xếp hạng và thay đổi",
    SCORECARD_766,
    "table",
    columns=(
        "commune_name",
        "commune_code",
        *PERIOD,
        "points_total",
        "max_points_computable",
        "rank_in_province",
        "points_change",
        "points_progress",
        "points_online_payment",
        "points_satisfaction",
        "points_digitisation",
        "indicators_applicable",
    ),
    order_by=(("rank_in_province", True), ("commune_code", True)),
    filters=(HAS_POINTS,),
)
MONTHLY_POINTS = Chart(
    "monthly_points_766",
    "Điểm 766 theo tháng",
    SCORECARD_766,
    "echarts_timeseries_line",
    columns=("period_start", "commune_name"),
    metrics=("points",),
    filters=(HAS_POINTS, ("period_type", "==", "month")),
    time_grain="P1M",
)
PROCESSING_TABLE = Chart(
    "processing_time_table",
    "Thời gian giải quyết theo thủ tục",
    PROCESSING_TIME,
    "table",
    columns=(
        "commune_name",
        "commune_code",
        *PERIOD,
        "procedure_code",
        "procedure_name",
        "resolved",
        "mean_working_days",
        "median_working_days",
        "p90_working_days",
        "legal_working_days",
    ),
    order_by=(("mean_working_days", False), ("commune_name", True), ("procedure_code", True)),
)
BACKLOG_BY_AGE = Chart(
    "backlog_by_age",
    "Hồ sơ đang giải quyết theo tuổi (ngày làm việc quá hạn)",
    BACKLOG,
    "echarts_timeseries_bar",
    columns=("commune_name", "age_band_label"),
    metrics=("open",),
    options={"stack": "Stack", "y_axis_format": ",d"},
)
BACKLOG_TABLE = Chart(
    "backlog_table",
    "Hồ sơ tồn theo tuổi, hồ sơ cũ nhất",
    BACKLOG,
    "table",
    columns=(
        "commune_name",
        "commune_code",
        "as_of_date",
        "band_order",
        "age_band_label",
        "open_dossiers",
        "max_working_days_late",
        "oldest_dossier_codes",
    ),
    order_by=(("commune_code", True), ("band_order", True)),
)

NOT_PERIODIC_766 = ("monthly_points_766",)  # the backlog has no period: left out by itself

INDEX_766 = Dashboard(
    "motcua-766",
    "Chỉ số 766: điểm, thời gian giải quyết, hồ sơ tồn",
    rows=(
        ((POINTS_BY_COMMUNE, 6), (MONTHLY_POINTS, 6)),
        ((SCORECARD_TABLE, 12),),
        ((PROCESSING_TABLE, 12),),
        ((BACKLOG_BY_AGE, 6), (BACKLOG_TABLE, 6)),
    ),
    filters=(
        Filter("province", "Mã tỉnh", SCORECARD_766, "province_code"),
        Filter("commune", "Xã / phường", SCORECARD_766, "commune_name", parent="province"),
        Filter(
            "period_type",
            "Loại kỳ",
            SCORECARD_766,
            "period_type",
            multi=False,
            required=True,
            default=("quarter",),
            excluded=NOT_PERIODIC_766,
        ),
        Filter(
            "period_start",
            "Kỳ",
            SCORECARD_766,
            "period_start",
            multi=False,
            newest_first=True,
            parent="period_type",
            excluded=NOT_PERIODIC_766,
        ),
    ),
    description="Decision 766/QĐ-TTg: points the dossiers tell, rank, change (docs/index766.md).",
)

DASHBOARDS = [LATENESS, SATISFACTION, CONTACTS, CURRENT, PROVINCE, INDEX_766]
