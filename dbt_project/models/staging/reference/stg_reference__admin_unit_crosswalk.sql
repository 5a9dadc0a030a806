{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['from_commune_key']},
        ],
    )
}}

{#-
    Successor edges between unit versions: those of the generated reference
    and, for each unit of the editable seed admin_units_local that ended,
    one default edge to the version of its successor_code valid the day
    after.

    A table, not a view like the other staging models: ~13,000 unit
    versions (~10,600 edges) that every unit join reads, keyed and indexed
    once per build (commune_key is computed here).
-#}
with

reference_edges as (

    select * from {{ source('reference', 'admin_unit_crosswalk') }}

),

local_units as (

    select * from {{ ref('admin_units_local') }}
    where successor_code is not null and valid_to is not null

),

successors as (

    select * from {{ ref('stg_reference__admin_units') }}

),

local_edges as (

    select
        local_units.commune_code as from_code,
        local_units.valid_from as from_valid_from,
        successors.commune_code as to_code,
        successors.valid_from as to_valid_from,
        local_units.valid_to + 1 as change_date,
        'local' as change_type,
        true as is_default_successor
    from local_units
    inner join successors
        on
            local_units.successor_code = successors.commune_code
            and local_units.valid_to + 1 >= successors.valid_from
            and local_units.valid_to + 1 <= coalesce(successors.valid_to, 'infinity'::date)

),

unioned as (

    select
        from_code,
        from_valid_from,
        to_code,
        to_valid_from,
        change_date,
        change_type,
        is_default_successor
    from reference_edges

    union all

    select
        from_code,
        from_valid_from,
        to_code,
        to_valid_from,
        change_date,
        change_type,
        is_default_successor
    from local_edges

),

final as (

    select
        {{ commune_key('from_code', 'from_valid_from') }} as from_commune_key,
        {{ commune_key('to_code', 'to_valid_from') }} as to_commune_key,
        change_date,
        change_type,
        is_default_successor

    from unioned

)

select * from final
