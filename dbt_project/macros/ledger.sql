{#-
    The CTEs an incremental ledger (int_reporting__commune_days,
    int_index766__procedure_durations) needs to count a night's changes:
    marks      counted_through (the ledger's last run; -infinity when empty)
               and checked_through (the latest arrival the current states know)
    changed    the dossiers with a valid row arrived between the two
    counted_states  their state as the ledger counted it (their valid rows
               arrived by counted_through, the order of
               int_onestop__dossiers_current: macro dossier_version_order)
    counted_facts   those states' facts (macro dossier_rule_columns), with the
               commune (unit version) they were received in and `columns` of
               the state as they are
    current_facts   their current facts (int_onestop__dossier_facts)
    A ledger counts counted_facts negatively and current_facts positively
    and adds the sums to the rows they touch, so a night costs what its
    delta holds, not the history. Written once here: both ledgers must see
    the same changes, or their marts would disagree after a night.
-#}
{% macro ledger_changes(columns) -%}
    marks as (

        select
            coalesce(
                (select max(this_run.counted_through) from {{ this }} as this_run),
                '-infinity'::timestamptz
            ) as counted_through,
            (
                select max(dossiers.last_arrival_at)
                from {{ ref('int_onestop__dossiers_current') }} as dossiers
            ) as checked_through

    ),

    changed as (

        -- dossiers with a valid row arrived since the last run
        select distinct rows_checked.dossier_code
        from {{ ref('int_onestop__rows_checked') }} as rows_checked
        where
            rows_checked.is_valid
            and rows_checked.arrival_at > (select marks.counted_through from marks)
            and rows_checked.arrival_at <= (select marks.checked_through from marks)

    ),

    counted_rows as (

        -- their valid rows that the ledger has counted
        select rows_checked.*
        from {{ ref('int_onestop__rows_checked') }} as rows_checked
        where
            rows_checked.dossier_code = any(array(select changed.dossier_code from changed))
            and rows_checked.is_valid
            and rows_checked.arrival_at <= (select marks.counted_through from marks)

    ),

    counted_states as (

        select distinct on (counted_rows.dossier_code) counted_rows.*
        from counted_rows
        order by counted_rows.dossier_code asc, {{ dossier_version_order('counted_rows') }}

    ),

    counted_facts as (

        select
            commune_lookup.commune_key,
            {%- for column in columns %}
            counted_states.{{ column }},
            {%- endfor %}
            {{ dossier_rule_columns('counted_states') }}
        from counted_states
        left join {{ ref('int_units__commune_lookup') }} as commune_lookup
            on
                counted_states.unit_code = commune_lookup.commune_code
                and counted_states.received_at::date between commune_lookup.lookup_from
                and commune_lookup.lookup_to

    ),

    current_facts as (

        select facts.*
        from {{ ref('int_onestop__dossier_facts') }} as facts
        where facts.dossier_code = any(array(select changed.dossier_code from changed))

    )
{%- endmacro %}
