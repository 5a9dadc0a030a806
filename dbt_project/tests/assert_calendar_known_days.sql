-- Known days of the working calendar (holidays library + make-up seed).
-- Returns the days whose classification differs from the official one.
with

calendar as (

    select * from {{ ref('int_calendar__days') }}

),

expected (calendar_date, is_working_day, why) as (

    values
    (date '2017-01-02', false, 'Tết Dương lịch on Sunday: day off in lieu'),
    (date '2017-01-26', false, '29 Tết'),
    (date '2017-02-01', false, 'Mùng năm Tết Đinh Dậu'),
    (date '2017-04-06', false, 'Giỗ Tổ Hùng Vương'),
    (date '2017-05-02', false, '30/4 on Sunday: day off in lieu'),
    (date '2017-09-04', false, 'Quốc khánh on Saturday: day off in lieu'),
    (date '2017-07-14', true, 'ordinary Friday'),
    (date '2017-07-15', false, 'Saturday'),
    (date '2018-12-31', false, 'swapped day off'),
    (date '2019-01-05', true, 'make-up Saturday for 31/12/2018'),
    (date '2019-05-04', true, 'make-up Saturday for 29/04/2019')

),

mismatches as (

    select
        expected.calendar_date,
        expected.why,
        expected.is_working_day as expected_working,
        calendar.is_working_day as actual_working
    from expected
    left join calendar
        on expected.calendar_date = calendar.calendar_date
    where (calendar.is_working_day is distinct from expected.is_working_day)

),

index_check as (

    -- 21 working days in (15/06/2017, 14/07/2017]
    select
        date '2017-07-14' as calendar_date,
        'working days in (2017-06-15, 2017-07-14] should be 21' as why,
        null::boolean as expected_working,
        null::boolean as actual_working
    from calendar as due_day
    inner join calendar as run_day
        on
            due_day.calendar_date = date '2017-06-15'
            and run_day.calendar_date = date '2017-07-14'
    where run_day.working_day_index - due_day.working_day_index <> 21

)

select * from mismatches
union all
select * from index_check
