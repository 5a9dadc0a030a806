{{ config(materialized='view') }}

{#-
    Per-dossier facts that the rules define and that do not depend on the
    reporting period or the run date: due and done dates, withdrawn or
    refused, early / on time / late, working days late at completion,
    apology compliance, reception outside the one-stop desk and the contact
    field checks. Personal data stops here: only flags go downstream.
    A view: fct_dossier reads only the changed dossiers through it.
-#}
with

dossiers as (

    select * from {{ ref('int_onestop__dossiers_current') }}

),

calendar as (

    select * from {{ ref('int_calendar__days') }}

),

dated as (

    select
        *,
        received_at::date as received_date,
        due_at::date as due_date,
        result_at::date as result_date,
        returned_at::date as returned_date,
        coalesce(result_at, returned_at)::date as done_date,
        apology_at::date as apology_date,
        apology_due_at::date as apology_due_date
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
        dated.status in ('Đã rút', 'Từ chối tiếp nhận', 'Dừng xử lý') as is_withdrawn_or_refused,
        case
            when dated.done_date is null or dated.due_date is null then null
            when dated.done_date < dated.due_date then 'early'
            when dated.done_date = dated.due_date then 'on_time'
            else 'late'
        end as resolution_status,
        case
            when dated.done_date > dated.due_date
                then done_day.working_day_index - due_day.working_day_index
            when dated.done_date is not null and dated.due_date is not null then 0
        end as working_days_late_at_done,
        coalesce(
            dated.apology_date <= dated.due_date and dated.apology_due_date is not null,
            false
        ) as has_compliant_apology,
        (dated.reception_place is distinct from 'Bộ phận một cửa') as is_received_outside_one_stop,
        {{ is_contact_present('dated.address') }} as address_present,
        {{ is_phone_valid('dated.phone') }} as phone_valid,
        {{ is_email_valid('dated.email') }} as email_valid,
        dated.source_file_name,
        dated.source_row_number,
        dated.last_batch_id
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
        source_file_name,
        source_row_number,
        last_batch_id
    from facts

)

select * from final
