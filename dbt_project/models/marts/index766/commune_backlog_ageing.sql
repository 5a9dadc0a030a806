{{
    config(
        indexes=[
            {'columns': ['commune_key', 'age_band'], 'unique': true},
        ]
    )
}}

{#-
    The backlog at run_date per commune (unit version) and age band: the
    dossiers open at run_date by working days past their due date (docs/rules.md
    in progress and overdue, fct_dossier's working_days_late in (due,
    run_date]): not yet due, 1–5 (an overdue dossier whose due date fell on
    the last day off counts here too), 6–20, more than 20, with the codes of
    the oldest ones (dossier codes are not personal data). Every commune with
    an open dossier has the four bands.
-#}
with

dossiers as (

    select * from {{ ref('fct_dossier') }}
    -- every dossier open at run_date is unsettled: through the (is_settled, done_date) index
    where not is_settled and is_open_at_run_date

),

units as (

    select * from {{ ref('dim_commune') }}

),

bands as (

    select *
    from (
        values
        (1, 'not_yet_due', 'chưa đến hạn'),
        (2, 'overdue_1_5', 'quá hạn 1–5 ngày làm việc'),
        (3, 'overdue_6_20', 'quá hạn 6–20 ngày làm việc'),
        (4, 'overdue_over_20', 'quá hạn trên 20 ngày làm việc')
    ) as band_values (band_order, age_band, age_band_label)

),

banded as (

    select
        dossiers.commune_key,
        dossiers.dossier_code,
        dossiers.received_date,
        dossiers.due_date,
        dossiers.working_days_late,
        case
            when not dossiers.is_overdue_at_run_date then 'not_yet_due'
            when dossiers.working_days_late <= 5 then 'overdue_1_5'
            when dossiers.working_days_late <= 20 then 'overdue_6_20'
            else 'overdue_over_20'
        end as age_band,
        dossiers.as_of_date
    from dossiers

),

communes as (

    select distinct commune_key from banded

),

counted as (

    select
        commune_key,
        age_band,
        count(*) as open_dossiers,
        max(working_days_late) as max_working_days_late,
        array_to_string(
            (array_agg(dossier_code order by due_date, received_date, dossier_code))[1:5], ', '
        ) as oldest_dossier_codes
    from banded
    group by commune_key, age_band

),

final as (

    select
        communes.commune_key,
        units.commune_code,
        units.commune_name,
        units.province_code,
        '{{ run_date() }}'::date as as_of_date,
        bands.band_order,
        bands.age_band,
        bands.age_band_label,
        coalesce(counted.open_dossiers, 0) as open_dossiers,
        counted.max_working_days_late,
        coalesce(counted.oldest_dossier_codes, '') as oldest_dossier_codes
    from communes
    cross join bands
    inner join units
        on communes.commune_key = units.commune_key
    left join counted
        on
            communes.commune_key = counted.commune_key
            and bands.age_band = counted.age_band

)

select * from final
