{#-
    Which unit version a GSO code means on a given date. The versions of one
    code are laid end to end and the first and last are stretched to
    -infinity / +infinity, so every (code, date) of a known code finds
    exactly one version: `code = commune_code and day between lookup_from
    and lookup_to`. A 2017 dossier with code 22606 gets Xã Ninh Vân, a 2025
    one Xã Ninh Phước.
-#}
with

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

final as (

    select
        commune_key,
        commune_code,
        case
            when lag(valid_from) over by_code is null then '-infinity'::date
            else valid_from
        end as lookup_from,
        coalesce(lead(valid_from) over by_code - 1, 'infinity'::date) as lookup_to
    from units
    window by_code as (partition by commune_code order by valid_from)

)

select * from final
