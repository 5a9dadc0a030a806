{#-
    The state of each dossier at the end of each reporting period it touches
    (RULES.md "Dossier state at the end of a period"); cut_off_date is the
    period end, or run_date for the period that contains it. One row per
    dossier × period where the dossier was received, carried over, resolved
    or in progress. Withdrawn or refused dossiers only count as received
    (and withdrawn_or_refused) in the period they were received in.
-#}
with

dossiers as (

    select * from {{ ref('int_onestop__dossier_facts') }}

),

periods as (

    select * from {{ ref('int_reporting__periods') }}

),

touched as (

    select
        dossiers.*,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        periods.cut_off_date
    from dossiers
    inner join periods
        on
            dossiers.received_date <= periods.cut_off_date
            and (dossiers.done_date is null or dossiers.done_date >= periods.period_start)
            and (
                not dossiers.is_withdrawn_or_refused
                or dossiers.received_date >= periods.period_start
            )

),

classified as (

    select
        *,
        received_date >= period_start as is_received,
        not is_withdrawn_or_refused
        and received_date < period_start as is_carried_over,
        not is_withdrawn_or_refused
        and coalesce(done_date between period_start and cut_off_date, false) as is_resolved,
        not is_withdrawn_or_refused
        and {{ is_in_progress_at('received_date', 'done_date', 'cut_off_date') }} as is_in_progress,
        {{ is_overdue_at('due_date', 'cut_off_date') }} as is_past_due
    from touched

),

judged as (

    select
        *,
        is_in_progress and is_past_due as is_in_progress_overdue,
        (is_resolved and resolution_status = 'late') or (is_in_progress and is_past_due) as is_late
    from classified

),

final as (

    select
        dossier_code,
        commune_key,
        period_type,
        period_start,
        period_end,
        cut_off_date,
        channel,
        is_received,
        is_received and is_withdrawn_or_refused as is_withdrawn_or_refused,
        is_received and is_received_outside_one_stop as is_received_outside_one_stop,
        is_carried_over,
        is_resolved,
        case when is_resolved then resolution_status end as resolution_status,
        is_in_progress,
        is_in_progress_overdue,
        is_late,
        is_late and not has_compliant_apology as is_late_without_apology,
        address_present,
        phone_valid,
        email_valid,
        contact_complete
    from judged

)

select * from final
