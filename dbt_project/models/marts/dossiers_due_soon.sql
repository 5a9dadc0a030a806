{{
    config(
        indexes=[
            {'columns': ['commune_code', 'due_date']},
        ]
    )
}}

{#-
    Open dossiers as of run_date that are already late (due_status =
    'overdue') or become late within `due_soon_working_days` working days
    (due_status = 'due_soon'), per commune, for the commune leaders' list.
    No personal data.
-#}
with

dossiers as (

    select * from {{ ref('fct_dossier') }}
    -- every dossier open at run_date is unsettled (is_settled is false): the
    -- condition lets the (is_settled, done_date) index find them
    where not is_settled and is_open_at_run_date

),

units as (

    -- the dimension table, keyed by commune_key, rather than the staging view,
    -- which computes the key: joined to a few rows, the view was re-read and
    -- its key recomputed for every pair
    select * from {{ ref('dim_commune') }}

),

final as (

    select
        dossiers.as_of_date,
        dossiers.commune_key,
        dossiers.commune_code,
        unit_of_dossier.commune_name,
        unit_of_dossier.district_code,
        dossiers.dossier_code,
        dossiers.procedure_code,
        dossiers.procedure_name,
        dossiers.received_date,
        dossiers.due_date,
        case when dossiers.is_overdue_at_run_date then 'overdue' else 'due_soon' end
            as due_status,
        dossiers.working_days_late,
        dossiers.working_days_to_due,
        dossiers.has_compliant_apology
    from dossiers
    -- each dossier looks its unit up by key (one index probe each): as a
    -- join, the planner took the open dossiers for 2 rows (61,319 at 10M
    -- dossiers over 4 provinces) and compared each with every unit version
    -- in a nested loop, 121.7 s of the full build and 95.8 s of the night
    -- on PostgreSQL 15; looked up, 0.56 s. commune_key is dim_commune's
    -- key: at most one row, as the inner join gave.
    cross join
        lateral (
            select
                units.commune_name,
                units.district_code
            from units
            where units.commune_key = dossiers.commune_key
            order by units.commune_key
            limit 1
        ) as unit_of_dossier
    where
        dossiers.is_overdue_at_run_date
        or dossiers.working_days_to_due <= {{ var('due_soon_working_days') }}

)

select * from final
