{{
    config(
        indexes=[
            {'columns': ['commune_key'], 'unique': true},
            {'columns': ['commune_code', 'lookup_from']},
        ]
    )
}}

{#-
    Which unit version a GSO code means on a given date: the version valid
    on that date, `code = commune_code and day between lookup_from and
    lookup_to`. A 2017 dossier with code 22606 gets Xã Ninh Vân, a 2025 one
    Xã Ninh Phước; a 2026 one Xã Tây Ninh Hòa for 22552, which was Xã Ninh
    Sim to 2025-06-30. A (code, date) that finds no version names no unit on
    that date: the dossier or survey answer is quarantined
    (int_onestop__rows_checked, int_survey__rows_checked, through this
    model), before the code's first day (code_first_day: a typo like 1985)
    as after its last unit ended (a 2026 export with a code the reform
    retired). Never guessed: ops.unknown_unit_codes lists such codes, and an
    operator adds the unit to the seed admin_units_local.
-#}
with

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

final as (

    select
        commune_key,
        commune_code,
        valid_from as lookup_from,
        coalesce(valid_to, 'infinity'::date) as lookup_to,
        min(valid_from) over by_code as code_first_day
    from units
    window by_code as (partition by commune_code)

)

select * from final
