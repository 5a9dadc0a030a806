{#-
    A survey answer on the five-point scale, written as the number or as
    the label of the seed vocabularies (accent- and case-insensitive): 1..5,
    anything else null
    ("no valid answer" for that element only). A number may carry leading
    zeros and a zero decimal part, with a point or a comma (`05`, `4.0`,
    `4,0`: what spreadsheets and hand-typed exports make of a 5 or a 4), and
    is read as that number; any other fraction (`4.5`), 0, 6 or more are not
    an answer. The regular expression admits exactly one digit 1-5 besides
    zeros and one separator, so dropping those leaves it.
-#}
{% macro survey_answer_score(expr) -%}
    case
        when {{ expr }} ~ '^0*[1-5]([.,]0+)?$' then translate({{ expr }}, '0.,', '')::int
        else
            case {{ text_key(expr) }}
                {%- for answer in vocabulary('survey_answer') %}
                when '{{ answer.spelling }}' then {{ answer.code }}
                {%- endfor %}
            end
    end
{%- endmacro %}

{#-
    The day a survey response is dated for its unit: Ngày khảo sát, or 1 July
    of Năm when the date is empty. The unit version of a response is the one
    its code named that day (int_survey__responses), and a response whose
    code named no unit yet that day is quarantined (int_survey__rows_checked).
-#}
{% macro survey_day(alias) -%}
    coalesce({{ alias }}.survey_date, make_date({{ alias }}.survey_year, 7, 1))
{%- endmacro %}
