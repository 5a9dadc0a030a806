{{
    config(
        indexes=[{'columns': ['calendar_date'], 'unique': true}]
    )
}}

{#-
    One row per day of the years covered by the holiday seed (2010–2035).
    Working day = Monday–Friday and not a public-sector day off, or an
    official make-up working day. working_day_index counts the working days
    up to and including the date, so the working days in (a, b] are
    index(b) - index(a).
-#}
with

holidays as (

    select * from {{ ref('stg_reference__public_holidays') }}

),

make_up_days as (

    select * from {{ ref('stg_reference__make_up_working_days') }}

),

bounds as (

    select
        make_date(min(extract(year from holiday_date))::int, 1, 1) as first_day,
        make_date(max(extract(year from holiday_date))::int, 12, 31) as last_day
    from holidays

),

days as (

    select generate_series(first_day, last_day, interval '1 day')::date as calendar_date
    from bounds

),

flagged as (

    select
        days.calendar_date,
        extract(isodow from days.calendar_date) >= 6 as is_weekend,
        holidays.holiday_date is not null as is_public_holiday,
        holidays.holiday_name,
        make_up_days.work_date is not null as is_make_up_working_day
    from days
    left join holidays
        on days.calendar_date = holidays.holiday_date
    left join make_up_days
        on days.calendar_date = make_up_days.work_date

),

classified as (

    select
        *,
        is_make_up_working_day or (not is_weekend and not is_public_holiday) as is_working_day
    from flagged

),

final as (

    select
        calendar_date,
        is_weekend,
        is_public_holiday,
        holiday_name,
        is_make_up_working_day,
        is_working_day,
        (
            sum(case when is_working_day then 1 else 0 end)
                over (order by calendar_date rows unbounded preceding)
        )::int as working_day_index
    from classified

)

select * from final
