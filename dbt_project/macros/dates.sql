{#-
    Safe parsing of the one-stop-shop date format `dd/mm/yyyy[ HH:MM[:SS]]`
    in pure SQL: a value that does not match, or names a day that does not
    exist (31/02/2017, 29/02/2018, 25:00), gives null, never an error.
    Two steps so that the regular expression runs once per value:
    vn_datetime_parts() in one CTE, vn_datetime_from_parts() in the next.
    Times are local (Asia/Ho_Chi_Minh): the result is a timestamp without
    time zone whose ::date is the date part that the rules compare.
-#}

{% macro vn_datetime_parts(expr) -%}
    (regexp_match(
        {{ expr }},
        '^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?:[ T]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?$'
    ))::int[]
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
