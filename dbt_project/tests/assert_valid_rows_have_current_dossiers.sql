-- int_onestop__dossiers_current holds the latest valid version of every
-- dossier, so it is never empty while valid rows exist. It is an unlogged
-- table: a crash empties it and the next night rebuilds it from every valid
-- row; this fails a build that left it empty (the Great Expectations suite on
-- it, dossier_current_state, passes on no rows). Two index probes.
with

dossiers_current as (

    select * from {{ ref('int_onestop__dossiers_current') }}

),

rows_checked as (

    select * from {{ ref('int_onestop__rows_checked') }}

),

valid_row as (

    -- through the index on (is_valid, arrival_at)
    select rows_checked.dossier_code
    from rows_checked
    where rows_checked.is_valid
    order by rows_checked.arrival_at
    limit 1

),

final as (

    select valid_row.dossier_code
    from valid_row
    where not exists (
        select 1 from dossiers_current
    )

)

select * from final
