{{
    config(
        pre_hook="{{ unit_sized_settings() }}",
        indexes=[
            {'columns': ['commune_key'], 'unique': true},
            {'columns': ['run_date_commune_key']},
        ]
    )
}}

{#-
    Each unit version's unit of today, following the default successor of
    every change (a divided unit goes to its default successor): the unit
    it ends in (latest_commune_key, what dim_commune calls current) and the
    unit it belongs to on the run date (run_date_commune_key: only the
    changes effective on or before run_date count), which the "today's
    units" marts attribute its dossiers to (docs/map.md). A unit valid on the run
    date is its own. The one place where the successions are walked.
-#}
with recursive

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

crosswalk as (

    select * from {{ ref('stg_reference__admin_unit_crosswalk') }}
    where is_default_successor

),

successions (commune_key, reached_key, steps, change_date) as (

    select
        units.commune_key,
        units.commune_key as reached_key,
        0 as steps,
        '-infinity'::date as change_date
    from units

    union all

    select
        successions.commune_key,
        crosswalk.to_commune_key,
        successions.steps + 1,
        crosswalk.change_date
    from successions
    inner join crosswalk
        on successions.reached_key = crosswalk.from_commune_key

),

latest as (

    select distinct on (commune_key)
        commune_key,
        reached_key as latest_commune_key
    from successions
    order by commune_key asc, steps desc

),

on_run_date as (

    -- change dates grow along a path: the last step taken by run_date
    select distinct on (commune_key)
        commune_key,
        reached_key as run_date_commune_key
    from successions
    where change_date <= '{{ run_date() }}'::date
    order by commune_key asc, steps desc

),

final as (

    select
        latest.commune_key,
        latest.latest_commune_key,
        on_run_date.run_date_commune_key
    from latest
    inner join on_run_date
        on latest.commune_key = on_run_date.commune_key

)

select * from final
