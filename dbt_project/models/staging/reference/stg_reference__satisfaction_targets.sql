with

source as (

    select * from {{ ref('satisfaction_targets') }}

),

final as (

    select
        survey_year,
        target_pct

    from source

)

select * from final
