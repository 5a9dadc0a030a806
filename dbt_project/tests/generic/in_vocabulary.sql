{#- Fails for every value of the column outside `vocabulary` of the seed vocabularies. -#}
{% test in_vocabulary(model, column_name, vocabulary) %}
select
    {{ column_name }} as value,
    count(*) as occurrences
from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} not in (
        select vocabularies.value
        from {{ ref('vocabularies') }} as vocabularies
        where vocabularies.vocabulary = '{{ vocabulary }}'
    )
group by {{ column_name }}
{% endtest %}
