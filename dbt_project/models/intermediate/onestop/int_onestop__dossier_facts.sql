{{ config(materialized='view') }}

{#-
    Per-dossier facts that the rules define and that do not depend on the
    reporting period or the run date: due and done dates, withdrawn or
    refused, early / on time / late, working days late at completion,
    apology compliance, reception outside the one-stop desk (rules in
    macros/dossiers.sql) and the contact field checks (made once per row in
    int_onestop__rows_checked). No personal data from here on.
    A view: fct_dossier reads only the changed dossiers through it.
-#}
with

dossiers as (

    select * from {{ ref('int_onestop__dossiers_current') }}

),

-- inlined at each use (not materialized), so that indexes, join removal and
-- parallel plans stay available
calendar as not materialized (

    select * from {{ ref('int_calendar__days') }}

),

dated as (

    select
        dossiers.*,
        {{ dossier_rule_columns('dossiers') }}
    from dossiers

),

facts as (

    select
        dated.dossier_code,
        dated.commune_key,
        dated.commune_code,
        dated.procedure_code,
        dated.procedure_name,
        dated.sector,
        dated.channel,
        dated.reception_place,
        dated.status,
        dated.received_at,
        dated.received_date,
        dated.due_date,
        dated.result_date,
        dated.returned_date,
        dated.done_date,
        dated.apology_date,
        dated.apology_due_date,
        dated.updated_at,
        dated.is_withdrawn_or_refused,
        dated.resolution_status,
        case
            when dated.done_date > dated.due_date
                then done_day.working_day_index - due_day.working_day_index
            when dated.done_date is not null and dated.due_date is not null then 0
        end as working_days_late_at_done,
        dated.has_compliant_apology,
        dated.is_received_outside_one_stop,
        dated.address_present,
        dated.phone_valid,
        dated.email_valid,
        dated.e_result,
        dated.digitised,
        dated.has_fee,
        dated.paid_online,
        dated.rated_dissatisfied,
        dated.source_file_name,
        dated.source_row_number,
        dated.last_batch_id,
        dated.last_arrival_at,
        dated.computed_for_run_date
    from dated
    left join calendar as due_day
        on dated.due_date = due_day.calendar_date
    left join calendar as done_day
        on dated.done_date = done_day.calendar_date

),

final as (

    select
        dossier_code,
        commune_key,
        commune_code,
        procedure_code,
        procedure_name,
        sector,
        channel,
        reception_place,
        status,
        received_at,
        received_date,
        due_date,
        result_date,
        returned_date,
        done_date,
        apology_date,
        apology_due_date,
        updated_at,
        is_withdrawn_or_refused,
        resolution_status,
        working_days_late_at_done,
        has_compliant_apology,
        is_received_outside_one_stop,
        address_present,
        phone_valid,
        email_valid,
        address_present and phone_valid and email_valid as contact_complete,
        e_result,
        digitised,
        has_fee,
        paid_online,
        rated_dissatisfied,
        source_file_name,
        source_row_number,
        last_batch_id,
        last_arrival_at,
        computed_for_run_date
    from facts

)

select * from final
