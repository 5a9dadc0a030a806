"""BI outputs of Một cửa Analytics, read from schema ``marts`` only.

- ``official_table``: the per-commune statistics table official letters attach (XLSX);
- ``transparency``: the public export for the town's portal and radio-TV (CSV + JSON);
- ``dashboard``: a static, self-contained HTML dashboard (inline SVG, no network).

``python -m motcua.reports --help`` for the command line. Importing this package is
cheap: openpyxl and psycopg are imported inside the functions that need them.
"""

from motcua.reports.periods import Period, PeriodError, parse_period

__all__ = ["Period", "PeriodError", "parse_period"]
