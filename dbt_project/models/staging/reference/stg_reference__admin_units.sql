with

source as (

    select * from {{ ref('admin_units') }}

),

final as (

    select
        {{ commune_key('commune_code', 'valid_from') }} as commune_key,
        commune_code,
        normalize(commune_name, nfc) as commune_name,
        normalize(commune_type, nfc) as commune_type,
        district_code,
        normalize(district_name, nfc) as district_name,
        province_code,
        normalize(province_name, nfc) as province_name,
        valid_from,
        valid_to,
        valid_from_basis

    from source

)

select * from final
