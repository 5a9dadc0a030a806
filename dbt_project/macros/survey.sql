{#-
    A survey answer on the five-point scale, written as the number or as
    the label (accent- and case-insensitive): 1..5, anything else null
    ("no valid answer" for that element only).
-#}
{% macro survey_answer_score(expr) -%}
    case
        when {{ expr }} ~ '^[1-5](\.0+)?$' then left({{ expr }}, 1)::int
        else
            case {{ text_key(expr) }}
                when 'rat khong hai long' then 1
                when 'khong hai long' then 2
                when 'binh thuong' then 3
                when 'hai long' then 4
                when 'rat hai long' then 5
            end
    end
{%- endmacro %}
