{#-
    The optional columns of the one-stop export that the 766 index reads
    (docs/index766.md, docs/sources.md §1): how a value is read, written here only.
    Staging applies them to every row. Each gives a three-valued flag: null
    when the row's file did not have the column (not supplied), else true or
    false; a value outside the column's vocabulary counts as no and is
    listed by index766_malformed_columns (a data-quality finding, never a
    quarantine reason).
-#}

{#- "yes" is Có, có, x, 1 or true in any case; "no" words are listed to tell a typo from a no. -#}
{% macro index766_yes_words() -%}
    {{ return(["có", "x", "1", "true"]) }}
{%- endmacro %}

{% macro index766_no_words() -%}
    {{ return(["không", "0", "false"]) }}
{%- endmacro %}

{#- lower case that does not depend on the database's locale for the accented capitals -#}
{% macro index766_folded(text_expr) -%}
    lower(translate({{ text_expr }}, 'ÓÔ', 'óô'))
{%- endmacro %}

{% macro index766_yes(text_expr, supplied_expr) -%}
    case
        when {{ supplied_expr }} then coalesce(
            {{ index766_folded(text_expr) }} in (
                {%- for word in index766_yes_words() %}'{{ word }}'{{ ", " if not loop.last }}{% endfor -%}
            ),
            false
        )
    end
{%- endmacro %}

{% macro index766_yes_no_malformed(text_expr) -%}
    coalesce({{ index766_folded(text_expr) }} not in (
        {%- for word in index766_yes_words() + index766_no_words() %}'{{ word }}'{{ ", " if not loop.last }}{% endfor -%}
    ), false)
{%- endmacro %}

{#-
    `Phí, lệ phí`: an amount in VND, digits with or without thousands
    separators ('50000', '50.000', '50,000'); empty or 0 is no fee.
-#}
{% macro index766_fee_pattern() -%}
    ^([0-9]+|[0-9]{1,3}([.,][0-9]{3})+)$
{%- endmacro %}

{% macro index766_fee_vnd(text_expr) -%}
    case
        when {{ text_expr }} ~ '{{ index766_fee_pattern() }}'
            then translate({{ text_expr }}, '.,', '')::numeric
    end
{%- endmacro %}

{% macro index766_has_fee(text_expr, supplied_expr) -%}
    case
        when {{ supplied_expr }} then coalesce({{ index766_fee_vnd(text_expr) }} > 0, false)
    end
{%- endmacro %}

{% macro index766_fee_malformed(text_expr) -%}
    coalesce({{ text_expr }} !~ '{{ index766_fee_pattern() }}', false)
{%- endmacro %}

{#-
    `Đánh giá`: the portal rates with the survey's five answer labels (the
    vocabulary survey_answer of the seed vocabularies, by their accent-free
    spelling; a bare number is not a rating); the two dissatisfied ones are
    "rated dissatisfied".
-#}
{% macro index766_ratings() -%}
    {%- set mapping = [] -%}
    {%- for entry in vocabulary('survey_answer') -%}
        {%- do mapping.append((entry.value, [entry.spelling])) -%}
    {%- endfor -%}
    {{ return(mapping) }}
{%- endmacro %}

{% macro index766_rating(text_expr) -%}
    {{ map_vocabulary(text_expr, index766_ratings()) }}
{%- endmacro %}

{% macro index766_rated_dissatisfied(rating_expr, supplied_expr) -%}
    {%- set words = [] -%}
    {%- for entry in vocabulary('survey_answer') -%}
        {%- if entry.role in ('dissatisfied', 'very_dissatisfied') -%}
            {%- do words.append("'" ~ entry.value ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    case
        when {{ supplied_expr }}
            then coalesce({{ rating_expr }} in ({{ words | join(', ') if words else 'null' }}), false)
    end
{%- endmacro %}

{#-
    The ledger counts the 766 index adds to int_reporting__commune_days
    (appended to commune_day_measure_conditions): the numerators and
    denominators that docs/rules.md's measures do not already give, and, per
    indicator, the dossiers whose state carries its column ("supplied": none
    in a period = the indicator is not applicable there).
-#}
{% macro index766_day_measure_conditions() -%}
    {{ return([
        ('resolved_e_result', "kind = 'resolved' and e_result"),
        ('resolved_e_result_supplied', "kind = 'resolved' and e_result is not null"),
        ('received_digitised', "kind = 'received' and digitised"),
        ('received_digitised_supplied', "kind = 'received' and digitised is not null"),
        ('received_with_fee', "kind = 'received' and has_fee"),
        ('received_with_fee_paid_online', "kind = 'received' and has_fee and paid_online"),
        ('received_payment_supplied',
            "kind = 'received' and has_fee is not null and paid_online is not null"),
        ('resolved_dissatisfied_not_late',
            "kind = 'resolved' and rated_dissatisfied"
            ~ " and resolution_status is distinct from 'late'"),
        ('resolved_rating_supplied', "kind = 'resolved' and rated_dissatisfied is not null"),
    ]) }}
{%- endmacro %}

{% macro index766_day_measures() -%}
    {{ return(index766_day_measure_conditions() | map(attribute=0) | list) }}
{%- endmacro %}

{#- The groups of the portal's sheet, as the scorecard's columns points_<group>. -#}
{% macro index766_groups() -%}
    {{ return(['publicity', 'progress', 'online_service', 'online_payment', 'satisfaction',
        'digitisation']) }}
{%- endmacro %}

{#-
    One select-list entry per 766 ledger count, `template` with `{m}` standing
    for the count's name: `index766_measure_list('sum({m})::bigint as {m}')`.
-#}
{% macro index766_measure_list(template) -%}
    {%- for measure in index766_day_measures() %}
    {{ template | replace('{m}', measure) }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- One select-list entry per group of the sheet, `{g}` standing for the group key. -#}
{% macro index766_group_list(template) -%}
    {%- for group_key in index766_groups() %}
    {{ template | replace('{g}', group_key) }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    The discrete percentile of a histogram: the smallest `value` whose
    cumulative count reaches `fraction` of the total (PostgreSQL's
    percentile_disc), over rows carrying `cumulative` and `total`; with
    `condition`, over the rows that meet it only.
-#}
{% macro histogram_percentile(value, cumulative, total, fraction, condition=none) -%}
    min({{ value }}) filter (
        where {{ cumulative }} >= {{ fraction }} * {{ total }}
        {%- if condition %} and {{ condition }}{% endif %}
    )
{%- endmacro %}

{#-
    The resolved dossiers (docs/rules.md: not withdrawn, with a done date) of
    `facts` (columns of dossier_rule_columns plus commune and procedure), as
    rows weighted `weight` for int_index766__procedure_durations.
-#}
{% macro resolved_for_durations(facts, weight) -%}
    select
        {{ facts }}.commune_key,
        {{ facts }}.procedure_code,
        {{ facts }}.procedure_name,
        {{ facts }}.received_date,
        {{ facts }}.due_date,
        {{ facts }}.done_date,
        {{ weight }} as weight
    from {{ facts }}
    where not {{ facts }}.is_withdrawn_or_refused and {{ facts }}.done_date is not null
{%- endmacro %}
