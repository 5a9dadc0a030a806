-- The 27 units of Ninh Hòa in 2017 (shared reference list) must all be in
-- dim_commune, valid on 1 July 2017, with exactly the reference's name, type
-- and district. Returns the reference rows that are missing or differ.
with

expected as (

    select * from {{ ref('expected_communes_ninh_hoa_2017') }}

),

dim_commune as (

    select * from {{ ref('dim_commune') }}
    where date '2017-07-01' between valid_from and coalesce(valid_to, 'infinity'::date)

)

select
    expected.commune_code,
    expected.commune_name,
    expected.district_code
from expected
left join dim_commune
    on
        expected.commune_code = dim_commune.commune_code
        and normalize(expected.commune_name) = dim_commune.commune_name
        and normalize(expected.commune_type) = dim_commune.commune_type
        and expected.district_code = dim_commune.district_code
        and normalize(expected.district_name) = dim_commune.district_name
        and expected.province_code = dim_commune.province_code
where dim_commune.commune_key is null
