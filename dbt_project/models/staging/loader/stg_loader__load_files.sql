with

source as (

    select * from {{ source('loader', 'load_files') }}

),

final as (

    select
        file_id,
        batch_id,
        source,
        file_name,
        file_format,
        rows_read,
        status,
        error,
        loaded_at

    from source

)

select * from final
