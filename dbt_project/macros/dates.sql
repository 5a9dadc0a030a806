{#-
    Safe parsing of the one-stop-shop date format `dd/mm/yyyy[ HH:MM[:SS]]`
    in pure SQL: a value that does not match, or names a day that does not
    exist (31/02/2017, 29/02/2018, 25:00), gives null, never an error.
    Two steps so that the parsing runs once per value: vn_datetime_parts()
    in one step, vn_datetime_from_parts() on its result in the next (each a
    computed_once() lateral of the staging model: from_parts refers to the
    parts a dozen times, and a plain CTE would paste the parsing into each).
    Times are local (Asia/Ho_Chi_Minh): the result is a timestamp without
    time zone whose ::date is the date part that the rules compare.
-#}

{#-
    [day, month, year, hour, minute, second] of a value of that format (time
    parts null when absent), or null. The format is checked by a regular
    expression without capture groups and the parts are cut with
    split_part(): regexp_match() with capture groups runs PostgreSQL's slow
    backtracking matcher (~100 µs a value; with the parts pasted into every
    use, the staging of 1M rows took a quarter of an hour). The shapes the
    exports use (`dd/mm/yyyy HH:MM[:SS]`, `dd/mm/yyyy`, two-digit parts) are
    recognised first by their digit pattern and cut at fixed positions: the
    same parts at half the CPU (2.0 instead of 4.2 µs a value on one core).
    Every other value takes the general path.
-#}
{% macro vn_datetime_parts(expr) -%}
    {%- set time_part = "ltrim(substr(split_part(" ~ expr ~ ", '/', 3), 5), ' T')" -%}
    {%- set day_month_year -%}
        substr({{ expr }}, 1, 2)::int, substr({{ expr }}, 4, 2)::int, substr({{ expr }}, 7, 4)::int
    {%- endset -%}
    case translate({{ expr }}, '0123456789', '0000000000')
        when '00/00/0000 00:00'
            then array[
                {{ day_month_year }},
                substr({{ expr }}, 12, 2)::int, substr({{ expr }}, 15, 2)::int, null
            ]
        when '00/00/0000 00:00:00'
            then array[
                {{ day_month_year }},
                substr({{ expr }}, 12, 2)::int, substr({{ expr }}, 15, 2)::int,
                substr({{ expr }}, 18, 2)::int
            ]
        when '00/00/0000' then array[{{ day_month_year }}, null, null, null]
        else
            case
                when {{ expr }} ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}(?:[ T]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?$'
                    then array[
                        split_part({{ expr }}, '/', 1)::int,
                        split_part({{ expr }}, '/', 2)::int,
                        left(split_part({{ expr }}, '/', 3), 4)::int,
                        nullif(split_part({{ time_part }}, ':', 1), '')::int,
                        nullif(split_part({{ time_part }}, ':', 2), '')::int,
                        nullif(split_part({{ time_part }}, ':', 3), '')::int
                    ]
            end
    end
{%- endmacro %}

{% macro vn_datetime_from_parts(parts) -%}
    {%- set d = parts ~ '[1]' -%}
    {%- set m = parts ~ '[2]' -%}
    {%- set y = parts ~ '[3]' -%}
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
            and coalesce({{ parts }}[4], 0) between 0 and 23
            and coalesce({{ parts }}[5], 0) between 0 and 59
            and coalesce({{ parts }}[6], 0) between 0 and 59
            then make_timestamp(
                {{ y }}, {{ m }}, {{ d }},
                coalesce({{ parts }}[4], 0),
                coalesce({{ parts }}[5], 0),
                coalesce({{ parts }}[6], 0)
            )
    end
{%- endmacro %}
