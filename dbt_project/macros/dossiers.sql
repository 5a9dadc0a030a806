{#-
    Which of a dossier's valid rows is its state (docs/rules.md, docs/sources.md tie
    rule): the latest `Cập nhật lúc`, then the file whose name sorts last,
    then the last row of that file (then the later file, should one name be
    delivered twice). int_onestop__dossiers_current picks the current state
    with it, int_reporting__commune_days the state a dossier had at the
    ledger's last run; both must order alike.
-#}
{% macro dossier_version_order(alias) -%}
    {{ alias }}.updated_at desc nulls last,
    {{ alias }}.file_name collate "C" desc,
    {{ alias }}.row_number desc,
    {{ alias }}.file_id desc
{%- endmacro %}

{#-
    The per-dossier facts of docs/rules.md that depend on neither the period nor
    the run date, from a state's columns (`alias` has received_at, due_at,
    result_at, returned_at, apology_at, apology_due_at, status,
    reception_place): dates by their date part, done = result date else
    return date, withdrawn or refused, early / on time / late, apology
    compliance, reception outside the one-stop desk. Each rule is written
    here only: int_onestop__dossier_facts applies it to current states,
    int_reporting__commune_days to the states the ledger last counted.
-#}
{% macro dossier_rule_columns(alias) -%}
    {%- set due = alias ~ '.due_at::date' -%}
    {%- set done = 'coalesce(' ~ alias ~ '.result_at, ' ~ alias ~ '.returned_at)::date' -%}
    {{ alias }}.received_at::date as received_date,
    {{ due }} as due_date,
    {{ alias }}.result_at::date as result_date,
    {{ alias }}.returned_at::date as returned_date,
    {{ done }} as done_date,
    {{ alias }}.apology_at::date as apology_date,
    {{ alias }}.apology_due_at::date as apology_due_date,
    {{ alias }}.status in {{ vocabulary_values('status', category='withdrawn_or_refused') }}
        as is_withdrawn_or_refused,
    case
        when {{ done }} is null or {{ due }} is null then null
        when {{ done }} < {{ due }} then 'early'
        when {{ done }} = {{ due }} then 'on_time'
        else 'late'
    end as resolution_status,
    coalesce(
        {{ alias }}.apology_at::date <= {{ due }} and {{ alias }}.apology_due_at is not null,
        false
    ) as has_compliant_apology,
    ({{ alias }}.reception_place is distinct from {{ vocabulary_value('reception_place', 'desk') }})
        as is_received_outside_one_stop
{%- endmacro %}

{#-
    The dated events of each dossier in `facts` (columns of
    int_onestop__dossier_facts), as rows (commune_key, event_date, kind, the
    flags), which int_reporting__commune_days counts per commune and day:
    received   on the received date (every dossier)
    resolved   on the done date (not withdrawn)
    due_passed on the day after the due date (not withdrawn): from then on
               the dossier is overdue while not done
    due_passed_done  on greatest(due + 1, done) (not withdrawn, done): from
               then on it is no longer overdue, or never was
    `sign` (+1, -1) weights the rows, so that removing a state is counting it
    negatively.
-#}
{% macro dossier_events(facts, sign='1') -%}
    select
        {{ facts }}.commune_key,
        happened.event_date,
        happened.kind,
        {{ sign }} as weight,
        {{ facts }}.channel,
        {{ facts }}.is_withdrawn_or_refused,
        {{ facts }}.resolution_status,
        {{ facts }}.has_compliant_apology,
        {{ facts }}.is_received_outside_one_stop,
        {{ facts }}.address_present,
        {{ facts }}.phone_valid,
        {{ facts }}.email_valid,
        {{ facts }}.e_result,
        {{ facts }}.digitised,
        {{ facts }}.has_fee,
        {{ facts }}.paid_online,
        {{ facts }}.rated_dissatisfied
    from {{ facts }}
    cross join lateral (
        values
        ('received', {{ facts }}.received_date),
        (
            'resolved',
            case when not {{ facts }}.is_withdrawn_or_refused then {{ facts }}.done_date end
        ),
        (
            'due_passed',
            case when not {{ facts }}.is_withdrawn_or_refused then {{ facts }}.due_date + 1 end
        ),
        (
            'due_passed_done',
            case
                when
                    not {{ facts }}.is_withdrawn_or_refused
                    and {{ facts }}.due_date is not null
                    and {{ facts }}.done_date is not null
                    then greatest({{ facts }}.due_date + 1, {{ facts }}.done_date)
            end
        )
    ) as happened (kind, event_date)
    where happened.event_date is not null
{%- endmacro %}

{#-
    The counts of int_reporting__commune_days, each with the events it
    counts (rows of dossier_events()).
-#}
{% macro commune_day_measure_conditions() -%}
    {{ return([
        ('received_total', "kind = 'received'"),
        ('received_online', "kind = 'received' and channel = " ~ vocabulary_value('channel', 'online')),
        ('received_direct', "kind = 'received' and channel = " ~ vocabulary_value('channel', 'direct')),
        ('received_postal', "kind = 'received' and channel = " ~ vocabulary_value('channel', 'postal')),
        ('received_unknown_channel', "kind = 'received' and channel is null"),
        ('withdrawn_or_refused', "kind = 'received' and is_withdrawn_or_refused"),
        ('received_outside_one_stop', "kind = 'received' and is_received_outside_one_stop"),
        ('address_present', "kind = 'received' and address_present"),
        ('phone_valid', "kind = 'received' and phone_valid"),
        ('email_valid', "kind = 'received' and email_valid"),
        ('contact_complete',
            "kind = 'received' and address_present and phone_valid and email_valid"),
        ('resolved_total', "kind = 'resolved'"),
        ('resolved_early', "kind = 'resolved' and resolution_status = 'early'"),
        ('resolved_on_time', "kind = 'resolved' and resolution_status = 'on_time'"),
        ('resolved_late', "kind = 'resolved' and resolution_status = 'late'"),
        ('resolved_late_without_apology',
            "kind = 'resolved' and resolution_status = 'late' and not has_compliant_apology"),
        ('due_passed', "kind = 'due_passed'"),
        ('due_passed_without_apology', "kind = 'due_passed' and not has_compliant_apology"),
        ('due_passed_done', "kind = 'due_passed_done'"),
        ('due_passed_done_without_apology',
            "kind = 'due_passed_done' and not has_compliant_apology"),
    ] + index766_day_measure_conditions()) }}
{%- endmacro %}

{% macro commune_day_measures() -%}
    {{ return(commune_day_measure_conditions() | map(attribute=0) | list) }}
{%- endmacro %}

{#-
    Counts per commune and day of rows of dossier_events() (weighted): what
    int_reporting__commune_periods sums over the days of a period (flows)
    and over all days up to a cut-off (dossiers in progress, overdue).
-#}
{% macro commune_day_counts(events) -%}
    select
        commune_key,
        event_date,
        {%- for name, condition in commune_day_measure_conditions() %}
        sum(case when {{ condition }} then weight else 0 end)::bigint as {{ name }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ events }}
    group by commune_key, event_date
{%- endmacro %}

{#-
    Post-hook of the big incremental tables: ANALYZE a table that was just
    (re)built, so that the models after it, and the next night's run, plan
    with statistics (the index on is_valid and arrival_at, the partial sets
    of the incremental runs). A table already analyzed is left to
    autovacuum: an incremental run does not pay for a new sample.
-#}
{% macro analyze_if_new() -%}
    do $$
    begin
        if not exists (
            select from pg_stat_all_tables
            where
                relid = '{{ this }}'::regclass
                and coalesce(last_analyze, last_autoanalyze) is not null
        ) then
            execute 'analyze {{ this }}';
        end if;
    end
    $$
{%- endmacro %}

{#-
    Pre-hook of the incremental models: no JIT compilation on an incremental
    run. A night reads a few thousand rows through indexes, but its plan is
    made before the run's marks are read, and the planner counts a row
    range it cannot see as a share of the table: at 10M rows the estimated
    cost passes jit_above_cost, and PostgreSQL (a build with JIT, e.g. the
    Debian packages) first compiles every expression of the query, the
    staging's included (2.5 s of compiling for the 5,000 new rows of
    int_onestop__rows_checked at 1M dossiers on PostgreSQL 15; more with
    inlining past jit_inline_above_cost). A full build keeps JIT.
-#}
{% macro no_jit_when_incremental() -%}
    {%- if is_incremental() %}set local jit = off{% endif -%}
{%- endmacro %}
