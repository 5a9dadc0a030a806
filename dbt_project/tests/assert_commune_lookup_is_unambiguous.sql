-- Every (code, day) must resolve to exactly one unit version: the lookup
-- ranges of one code may not overlap. Returns overlapping pairs.
with

lookup as (

    select * from {{ ref('int_units__commune_lookup') }}

)

select
    first_version.commune_code,
    first_version.commune_key as first_key,
    second_version.commune_key as second_key
from lookup as first_version
inner join lookup as second_version
    on
        first_version.commune_code = second_version.commune_code
        and first_version.commune_key < second_version.commune_key
        and first_version.lookup_from <= second_version.lookup_to
        and first_version.lookup_to >= second_version.lookup_from
