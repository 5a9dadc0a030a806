{{
    config(
        pre_hook="{{ unit_sized_settings() }}",
        indexes=[
            {'columns': ['commune_code', 'valid_from']},
        ]
    )
}}

{#-
    One row per administrative-unit version of every province: the GSO code
    is not a key on its own (codes are reused after the 2024 merges and the
    2025 reform). Each version names its direct successor (default one when
    a unit was divided) and the unit it ends in (int_units__current_unit).
-#}
with

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

crosswalk as (

    select * from {{ ref('stg_reference__admin_unit_crosswalk') }}
    where is_default_successor

),

today as (

    select * from {{ ref('int_units__current_unit') }}

),

final as (

    select
        units.commune_key,
        units.commune_code,
        units.commune_name,
        units.commune_type,
        units.district_code,
        units.district_name,
        units.province_code,
        units.province_name,
        units.valid_from,
        units.valid_to,
        units.valid_from_basis,
        units.valid_to is null as is_current,
        crosswalk.to_commune_key as successor_commune_key,
        successor.commune_code as successor_commune_code,
        successor.commune_name as successor_commune_name,
        crosswalk.change_date as successor_change_date,
        crosswalk.change_type as successor_change_type,
        today.latest_commune_key as current_commune_key,
        current_unit.commune_code as current_commune_code,
        current_unit.commune_name as current_commune_name
    from units
    left join crosswalk
        on units.commune_key = crosswalk.from_commune_key
    left join units as successor
        on crosswalk.to_commune_key = successor.commune_key
    inner join today
        on units.commune_key = today.commune_key
    inner join units as current_unit
        on today.latest_commune_key = current_unit.commune_key

)

select * from final
