-- The rule "in progress / overdue at a cut-off" is applied twice by design:
-- per dossier at run_date (fct_dossier, macro is_in_progress_at) and as
-- dated events summed per commune (int_reporting__commune_days, macro
-- dossier_events). For the current period, whose cut-off is run_date, both
-- must count the same dossiers. Returns the communes where they differ.
-- Open dossiers are never settled: read through fct_dossier's is_settled index.
with

fct as (

    select * from {{ ref('fct_dossier') }}

),

lateness as (

    select * from {{ ref('commune_lateness') }}

),

open_dossiers as (

    select
        commune_key,
        count(*) as in_progress_total,
        count(*) filter (where is_overdue_at_run_date) as in_progress_overdue
    from fct
    where not is_settled and is_open_at_run_date
    group by commune_key

),

current_period as (

    select
        commune_key,
        in_progress_total,
        in_progress_overdue
    from lateness
    where
        period_type = 'month'
        and cut_off_date = '{{ run_date() }}'::date

)

select
    coalesce(current_period.commune_key, open_dossiers.commune_key) as commune_key,
    current_period.in_progress_total as ledger_in_progress,
    open_dossiers.in_progress_total as dossiers_in_progress,
    current_period.in_progress_overdue as ledger_overdue,
    open_dossiers.in_progress_overdue as dossiers_overdue
from current_period
full outer join open_dossiers
    on current_period.commune_key = open_dossiers.commune_key
where
    coalesce(current_period.in_progress_total, 0)
    is distinct from coalesce(open_dossiers.in_progress_total, 0)
    or coalesce(current_period.in_progress_overdue, 0)
    is distinct from coalesce(open_dossiers.in_progress_overdue, 0)
