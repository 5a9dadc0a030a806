{#-
    Which unit version a GSO code means on a given date. The versions of one
    code are laid end to end from the first version's valid_from, and the
    last is stretched to +infinity, so every (code, date) of a known code on
    or after its first day finds exactly one version: `code = commune_code
    and day between lookup_from and lookup_to`. A 2017 dossier with code
    22606 gets Xã Ninh Vân, a 2025 one Xã Ninh Phước. Before its first
    valid_from (code_first_day) a code names no unit the reference knows: a
    dossier or survey dated then is quarantined (int_onestop__rows_checked,
    int_survey__rows_checked, through this model), so a typo like 1985 does
    not reach the marts.
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
        coalesce(lead(valid_from) over by_code - 1, 'infinity'::date) as lookup_to,
        min(valid_from) over by_code as code_first_day
    from units
    window by_code as (partition by commune_code order by valid_from)

)

select * from final
