-- The seed vocabularies: each value is in NFC and its spelling is the value's
-- own accent- and case-insensitive key (macro text_key), so a delivered text
-- maps to the value exactly when its key is the spelling. Returns the rows
-- breaking that.
with

vocabularies as (

    select * from {{ ref('vocabularies') }}

),

final as (

    select
        vocabulary,
        value,
        spelling,
        {{ text_key('value') }} as key_of_value
    from vocabularies
    where
        value is distinct from normalize(value, nfc)
        or spelling is distinct from {{ text_key('value') }}

)

select * from final
