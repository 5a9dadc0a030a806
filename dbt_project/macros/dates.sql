{#-
    Safe parsing of the one-stop-shop date format `dd/mm/yyyy[ HH:MM[:SS]]`
    in pure SQL: a value that does not match, or names a day that does not
    exist (31/02/2017, 29/02/2018, 25:00), gives null, never an error.
    Two steps so that the parsing runs once per value: vn_datetime_parts()
    in one step, vn_datetime_from_parts() on its result in the next (each a
    computed_once() lateral of the staging model: from_parts reads the parts
    some twenty times, and a plain CTE would paste the parsing into each).
    Times are local (Asia/Ho_Chi_Minh): the result is a timestamp without
    time zone whose ::date is the date part that the rules compare.
-#}

{#-
    The parts of a value of that format packed into one bigint, digit
    positions ddmmyyyyHHMMSS (time parts 0 when absent), or null. The format
    is checked by a regular expression without capture groups and the parts
    are cut with split_part(): regexp_match() with capture groups runs
    PostgreSQL's slow backtracking matcher (~100 µs a value). The shapes the
    exports use (`dd/mm/yyyy HH:MM[:SS]`, `dd/mm/yyyy`, two-digit parts) are
    recognised first by their digit pattern and packed by dropping the
    separators: the same parts at a fraction of the CPU. Every other value
    takes the general path. One integer rather than an array of the parts:
    vn_datetime_from_parts() reads the parts some twenty times, and each
    read of an array element copied the whole array out of the row first
    (a profile of the staging showed that copying as its largest cost after
    the expression interpreter); reading a packed part is integer arithmetic.
    Each part has at most two digits (the year four), so the packing is
    unambiguous.
-#}
{% macro vn_datetime_parts(expr) -%}
    {%- set time_part = "ltrim(substr(split_part(" ~ expr ~ ", '/', 3), 5), ' T')" -%}
    case translate({{ expr }}, '0123456789', '0000000000')
        when '00/00/0000 00:00' then (translate({{ expr }}, '/: ', '') || '00')::bigint
        when '00/00/0000 00:00:00' then translate({{ expr }}, '/: ', '')::bigint
        when '00/00/0000' then (translate({{ expr }}, '/', '') || '000000')::bigint
        else
            case
                when {{ expr }} ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}(?:[ T]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?$'
                    then split_part({{ expr }}, '/', 1)::bigint * 1000000000000
                    + split_part({{ expr }}, '/', 2)::bigint * 10000000000
                    + left(split_part({{ expr }}, '/', 3), 4)::bigint * 1000000
                    + coalesce(nullif(split_part({{ time_part }}, ':', 1), '')::bigint, 0) * 10000
                    + coalesce(nullif(split_part({{ time_part }}, ':', 2), '')::bigint, 0) * 100
                    + coalesce(nullif(split_part({{ time_part }}, ':', 3), '')::bigint, 0)
            end
    end
{%- endmacro %}

{% macro vn_datetime_from_parts(parts) -%}
    {%- set d = '(' ~ parts ~ ' / 1000000000000)' -%}
    {%- set m = '(' ~ parts ~ ' / 10000000000 % 100)' -%}
    {%- set y = '(' ~ parts ~ ' / 1000000 % 10000)' -%}
    {%- set hh = '(' ~ parts ~ ' / 10000 % 100)' -%}
    {%- set mi = '(' ~ parts ~ ' / 100 % 100)' -%}
    {%- set ss = '(' ~ parts ~ ' % 100)' -%}
    case
        when {{ parts }} is not null
            and {{ y }} between 1900 and 2100
            and {{ m }} between 1 and 12
            and {{ d }} between 1 and case
                when {{ m }} in (4, 6, 9, 11) then 30
                when {{ m }} = 2 and ({{ y }} % 4 = 0 and {{ y }} % 100 <> 0 or {{ y }} % 400 = 0)
                    then 29
                when {{ m }} = 2 then 28
                else 31
            end
            and {{ hh }} <= 23
            and {{ mi }} <= 59
            and {{ ss }} <= 59
            then make_timestamp(
                {{ y }}::int, {{ m }}::int, {{ d }}::int, {{ hh }}::int, {{ mi }}::int, {{ ss }}::int
            )
    end
{%- endmacro %}

{#-
    The local (Asia/Ho_Chi_Minh) calendar day of a timestamptz, such as the
    moment a file was loaded. Vietnam has kept UTC+7 without daylight saving
    since 1975, so the fixed offset is the zone: PostgreSQL applies an
    interval offset by arithmetic, where a zone name costs a look-up per row
    (~0.5 µs, seconds over the 10M rows of a full build).
-#}
{% macro local_date(expr) -%}
    ({{ expr }} at time zone interval '+07:00')::date
{%- endmacro %}

{#-
    The range checks on dates (int_onestop__rows_checked,
    int_survey__rows_checked; the quarantine models word them), with the
    bounds of dbt_project.yml:
    - load_day_limit: the last day a date of something that happened
      (received, result, return, apology letter, last update, survey) may
      name: the day its file was loaded plus var load_grace_days (the source
      system's clock and the warehouse's may disagree around midnight). A
      fixed fact of the row, unlike the run date: a row is checked once,
      when its file arrives (int_onestop__rows_checked is incremental, and
      ops.file_reconciliation counts a file once), so its verdict must not
      depend on which night checked it; in a nightly run the load day is the
      run date.
    - promised_date_limit: the last day a promised date (Ngày hẹn trả, Ngày
      hẹn trả lại) may name: var max_days_promised_after_received after
      Ngày tiếp nhận. A due date decades away is a typo that would keep the
      dossier "in progress, on time" for good.
-#}
{% macro load_day_limit(alias) -%}
    ({{ alias }}.load_day + {{ var('load_grace_days') }})
{%- endmacro %}

{% macro promised_date_limit(alias) -%}
    ({{ alias }}.received_at::date + {{ var('max_days_promised_after_received') }})
{%- endmacro %}
