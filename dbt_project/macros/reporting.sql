{#- Shared formulas of the marts (docs/rules.md); each is written only here. -#}

{#- A percentage 0..100 rounded to 2 decimals; null when the denominator is 0. -#}
{% macro percent(numerator, denominator) -%}
    round(100.0 * ({{ numerator }}) / nullif({{ denominator }}, 0), 2)
{%- endmacro %}

{#- late_rate = 100 × late_total / (resolved_total + in_progress_total). -#}
{% macro late_rate(late_total, resolved_total, in_progress_total) -%}
    {{ percent(late_total, resolved_total ~ ' + ' ~ in_progress_total) }}
{%- endmacro %}

{#- Strictly above the threshold; a null rate (nothing to judge) is not over. -#}
{% macro is_over_threshold(rate, threshold) -%}
    coalesce({{ rate }} > {{ threshold }}, false)
{%- endmacro %}

{#- First day of the period of type month / quarter / half_year / year containing `day`. -#}
{% macro period_start_of(period_type, day) -%}
    case {{ period_type }}
        when 'half_year' then make_date(
            extract(year from {{ day }})::int,
            case when extract(month from {{ day }}) <= 6 then 1 else 7 end,
            1
        )
        else date_trunc({{ period_type }}, {{ day }})::date
    end
{%- endmacro %}

{#-
    In progress at a cut-off: received on or before it and not done by it.
    Overdue when, in addition, due < cut-off. Used per dossier at the run
    date (fct_dossier); the period marts count the same rule as dated events
    (macro dossier_events), and tests/assert_open_dossiers_match_the_ledger.sql
    checks that both agree for the current period.
-#}
{% macro is_in_progress_at(received_date, done_date, cut_off) -%}
    (
        {{ received_date }} <= {{ cut_off }}
        and ({{ done_date }} is null or {{ done_date }} > {{ cut_off }})
    )
{%- endmacro %}

{% macro is_overdue_at(due_date, cut_off) -%}
    coalesce({{ due_date }} < {{ cut_off }}, false)
{%- endmacro %}
