{#-
    Pre-hook of the models sized by units, periods and the ledgers, never by
    the dossiers (the reference, the period and 766 marts): no JIT, and the
    memory for their sorts. Their joins over a few thousand units and
    periods are estimated at millions of rows (costs of 10^5 to 10^7), past
    jit_above_cost and jit_optimize_above_cost, and PostgreSQL (a build
    with JIT) compiled and optimised every expression each time, full build
    and night alike: at 1M dossiers over 4 provinces on PostgreSQL 15, 2.0 s
    of the 4.4 s of commune_index_766 and 4.4 s of 4.5 s of
    int_reporting__satisfaction_scored (which has no survey in that bench).
    commune_scorecard_766 sorts the 717,060 rows of commune_index_766 and
    spilled to disk with the server's 4 MB. The figures do not depend on
    either setting.
-#}
{% macro unit_sized_settings() -%}
    set local jit = off; set local work_mem = '64MB'
{%- endmacro %}
