{{
    config(
        pre_hook="{{ unit_sized_settings() }}",
        indexes=[
            {'columns': ['period_type', 'period_start', 'commune_key', 'indicator_code'], 'unique': true},
            {'columns': ['commune_code']},
        ]
    )
}}

{#-
    The 766 index per commune (unit version, as received) × period ×
    indicator (docs/index766.md). Every rule of the index is here or in the seed
    index766_indicators (groups, maximum points, the constants of the
    points): numerator and denominator of each indicator the dossiers tell,
    when it applies, and why not. The counts come from
    int_index766__commune_periods (the 06a measures and the 766 ledger
    counts). An indicator whose column no dossier of the period carries is
    not applicable ("column not supplied"), never 0 points; handling
    satisfaction without ratings is computed from lateness alone.
-#}
with

commune_periods as (

    select * from {{ ref('int_index766__commune_periods') }}

),

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

indicators as (

    select * from {{ ref('stg_reference__index766_indicators') }}

),

counted as (

    -- numerator, denominator, the dossiers it counts (population) and how
    -- many of them carry its optional column (supplied; null: it needs
    -- none), for handling satisfaction how many carry a rating column
    select
        commune_periods.commune_key,
        commune_periods.commune_code,
        commune_periods.commune_name,
        commune_periods.period_type,
        commune_periods.period_start,
        commune_periods.period_end,
        counts.indicator_code,
        counts.numerator,
        counts.denominator,
        counts.population,
        counts.supplied,
        counts.ratings_supplied
    from commune_periods
    cross join lateral (
        values
        (
            'progress_on_time',
            commune_periods.resolved_early + commune_periods.resolved_on_time
            + commune_periods.in_progress_on_time,
            commune_periods.resolved_total + commune_periods.in_progress_total,
            commune_periods.resolved_total + commune_periods.in_progress_total,
            null::bigint,
            null::bigint
        ),
        (
            'online_share',
            commune_periods.received_online,
            commune_periods.received_total,
            commune_periods.received_total,
            null::bigint,
            null::bigint
        ),
        (
            'direct_share',
            commune_periods.received_direct,
            commune_periods.received_total,
            commune_periods.received_total,
            null::bigint,
            null::bigint
        ),
        (
            'postal_share',
            commune_periods.received_postal,
            commune_periods.received_total,
            commune_periods.received_total,
            null::bigint,
            null::bigint
        ),
        (
            'e_result',
            commune_periods.resolved_e_result,
            commune_periods.resolved_total,
            commune_periods.resolved_total,
            commune_periods.resolved_e_result_supplied,
            null::bigint
        ),
        (
            'digitised',
            commune_periods.received_digitised,
            commune_periods.received_total,
            commune_periods.received_total,
            commune_periods.received_digitised_supplied,
            null::bigint
        ),
        (
            -- paid online among the dossiers with a fee: nothing to pay without one
            'online_payment',
            commune_periods.received_with_fee_paid_online,
            commune_periods.received_with_fee,
            commune_periods.received_total,
            commune_periods.received_payment_supplied,
            null::bigint
        ),
        (
            -- resolved minus those resolved late or rated dissatisfied; without
            -- ratings in the period, from lateness alone
            'handling_satisfaction',
            commune_periods.resolved_total - commune_periods.resolved_late
            - commune_periods.resolved_dissatisfied_not_late,
            commune_periods.resolved_total,
            commune_periods.resolved_total,
            null::bigint,
            commune_periods.resolved_rating_supplied
        )
    ) as counts (indicator_code, numerator, denominator, population, supplied, ratings_supplied)

),

judged as (

    select
        counted.*,
        indicators.points_scale,
        indicators.points_target,
        indicators.is_capped,
        indicators.max_points,
        case
            when counted.supplied = 0 and counted.population > 0 then 'column not supplied'
            when counted.denominator = 0 then 'no dossiers'
        end as reason_not_applicable,
        case
            when counted.ratings_supplied = 0 and counted.denominator > 0
                then 'ratings not supplied: from lateness alone'
        end as note
    from counted
    inner join indicators
        on counted.indicator_code = indicators.indicator_code

),

computed as (

    select
        commune_key,
        commune_code,
        commune_name,
        period_type,
        period_start,
        period_end,
        indicator_code,
        numerator,
        denominator,
        case
            when reason_not_applicable is null
                then round(100.0 * numerator / denominator, 2)
        end as rate,
        case
            when reason_not_applicable is null and points_scale is not null
                then round(
                    case
                        when is_capped
                            then least(
                                max_points,
                                points_scale * numerator / (denominator * points_target)
                            )
                        else points_scale * numerator / (denominator * points_target)
                    end,
                    2
                )
        end as points,
        reason_not_applicable is null as is_applicable,
        coalesce(reason_not_applicable, note) as reason
    from judged

),

not_computed as (

    -- the indicators the dossier export cannot tell, on every commune × period
    select
        commune_periods.commune_key,
        commune_periods.commune_code,
        commune_periods.commune_name,
        commune_periods.period_type,
        commune_periods.period_start,
        commune_periods.period_end,
        indicators.indicator_code,
        null::bigint as numerator,
        null::bigint as denominator,
        null::numeric as rate,
        null::numeric as points,
        false as is_applicable,
        indicators.reason_not_computed as reason
    from commune_periods
    cross join indicators
    where not indicators.is_computed

),

all_indicators as (

    select * from computed
    union all
    select * from not_computed

),

final as (

    select
        all_indicators.commune_key,
        all_indicators.commune_code,
        all_indicators.commune_name,
        units.province_code,
        units.district_code,
        all_indicators.period_type,
        all_indicators.period_start,
        all_indicators.period_end,
        all_indicators.indicator_code,
        indicators.indicator_group,
        indicators.group_key,
        indicators.sort_order,
        all_indicators.numerator,
        all_indicators.denominator,
        all_indicators.rate,
        all_indicators.points,
        indicators.max_points,
        all_indicators.is_applicable,
        all_indicators.reason
    from all_indicators
    inner join indicators
        on all_indicators.indicator_code = indicators.indicator_code
    inner join units
        on all_indicators.commune_key = units.commune_key

)

select * from final
