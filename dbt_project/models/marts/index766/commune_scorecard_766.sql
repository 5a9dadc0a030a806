{{
    config(
        pre_hook="{{ unit_sized_settings() }}",
        indexes=[
            {'columns': ['period_type', 'period_start', 'commune_key'], 'unique': true},
            {'columns': ['commune_code']},
        ]
    )
}}

{#-
    The 766 scorecard per commune (unit version, as received) × period:
    the points of commune_index_766 summed per group and in all, the most
    the applicable indicators could give, the rank among the province's
    communes of the same period by points_total (ties share a rank, the
    next rank skips: 1, 1, 3; communes with no applicable indicator are not
    ranked) and the change against the previous period of the same type.
-#}
with

index_rows as (

    select * from {{ ref('commune_index_766') }}

),

summed as (

    select
        commune_key,
        commune_code,
        commune_name,
        province_code,
        district_code,
        period_type,
        period_start,
        period_end,
        {{ index766_group_list(
            "sum(points) filter (where is_applicable and group_key = '{g}') as points_{g}"
        ) }},
        sum(points) filter (where is_applicable) as points_total,
        coalesce(sum(max_points) filter (where is_applicable), 0) as max_points_computable,
        count(*) filter (where is_applicable and max_points > 0) as indicators_applicable
    from index_rows
    group by
        commune_key,
        commune_code,
        commune_name,
        province_code,
        district_code,
        period_type,
        period_start,
        period_end

),

ranked as (

    select
        summed.*,
        case
            when summed.points_total is not null
                then rank() over (
                    partition by
                        summed.province_code,
                        summed.period_type,
                        summed.period_start,
                        summed.points_total is null
                    order by summed.points_total desc
                )
        end as rank_in_province
    from summed

),

final as (

    select
        ranked.commune_key,
        ranked.commune_code,
        ranked.commune_name,
        ranked.province_code,
        ranked.district_code,
        ranked.period_type,
        ranked.period_start,
        ranked.period_end,
        ranked.points_publicity,
        ranked.points_progress,
        ranked.points_online_service,
        ranked.points_online_payment,
        ranked.points_satisfaction,
        ranked.points_digitisation,
        ranked.points_total,
        ranked.max_points_computable,
        ranked.indicators_applicable,
        ranked.rank_in_province,
        ranked.points_total - previous.points_total as points_change,
        previous.period_start as previous_period_start
    from ranked
    left join summed as previous
        on
            ranked.commune_key = previous.commune_key
            and ranked.period_type = previous.period_type
            and ranked.period_start = (previous.period_end + 1)

)

select * from final
