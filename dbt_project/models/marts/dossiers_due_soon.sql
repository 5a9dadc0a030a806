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
        units.commune_name,
        units.district_code,
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
    inner join units
        on dossiers.commune_key = units.commune_key
    where
        dossiers.is_overdue_at_run_date
        or dossiers.working_days_to_due <= {{ var('due_soon_working_days') }}

)

select * from final
