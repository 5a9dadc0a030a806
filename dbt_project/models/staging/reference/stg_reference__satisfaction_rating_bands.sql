with

source as (

    select * from {{ ref('satisfaction_rating_bands') }}

),

final as (

    select
        normalize(rating, nfc) as rating,
        lower_bound,
        upper_bound,
        band_order

    from source

)

select * from final
