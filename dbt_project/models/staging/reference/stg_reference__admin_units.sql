{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['commune_key'], 'unique': true},
            {'columns': ['commune_code', 'valid_from']},
        ],
    )
}}

{#-
    Every unit version the warehouse knows: the generated national reference
    (source reference.admin_units) and the units operators added in the
    editable seed admin_units_local. A local unit without district or
    province takes those of its successor (the version of successor_code
    valid the day after it ended).

    A table, not a view like the other staging models: ~13,000 unit
    versions (~10,600 edges) that every unit join reads, keyed and indexed
    once per build (commune_key is computed here).
-#}
with

reference_units as (

    select * from {{ source('reference', 'admin_units') }}

),

local_units as (

    select * from {{ ref('admin_units_local') }}

),

local_completed as (

    -- typed by operators: names in NFC here (the generated reference is NFC already)
    select
        local_units.commune_code,
        {{ nfc("local_units.commune_name") }} as commune_name,
        {{ nfc("local_units.commune_type") }} as commune_type,
        coalesce(local_units.district_code, successor.district_code) as district_code,
        coalesce({{ nfc("local_units.district_name") }}, successor.district_name)
            as district_name,
        coalesce(local_units.province_code, successor.province_code) as province_code,
        coalesce({{ nfc("local_units.province_name") }}, successor.province_name)
            as province_name,
        local_units.valid_from,
        local_units.valid_to,
        'local' as valid_from_basis
    from local_units
    left join reference_units as successor
        on
            local_units.successor_code = successor.commune_code
            and local_units.valid_to + 1 >= successor.valid_from
            and local_units.valid_to + 1 <= coalesce(successor.valid_to, 'infinity'::date)

),

unioned as (

    select
        commune_code,
        commune_name,
        commune_type,
        district_code,
        district_name,
        province_code,
        province_name,
        valid_from,
        valid_to,
        valid_from_basis
    from reference_units

    union all

    select
        commune_code,
        commune_name,
        commune_type,
        district_code,
        district_name,
        province_code,
        province_name,
        valid_from,
        valid_to,
        valid_from_basis
    from local_completed

),

final as (

    select
        {{ commune_key('commune_code', 'valid_from') }} as commune_key,
        commune_code,
        commune_name,
        commune_type,
        district_code,
        district_name,
        province_code,
        province_name,
        valid_from,
        valid_to,
        valid_from_basis

    from unioned

)

select * from final
