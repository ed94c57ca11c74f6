with leads as (
    select * from {{ ref('int_leads_summarised') }}
),

arms as (
    select
        workspace_id,
        arm,
        count(*) as positive_leads,
        count(case when first_response_at is not null then 1 end) as responded_leads,
        percentile_cont(0.5) within group (order by response_seconds)
            as median_response_seconds,
        percentile_cont(0.9) within group (order by response_seconds)
            as p90_response_seconds,
        count(case when is_booked then 1 end) as booked_leads
    from leads
    where is_positive
        and arm is not null
    group by workspace_id, arm
),

final as (
    select
        workspace_id,
        arm,
        positive_leads,
        responded_leads,
        median_response_seconds,
        p90_response_seconds,
        booked_leads,
        booked_leads * 1.0 / nullif(positive_leads, 0) as booking_rate,
        {{ wilson_low('booked_leads', 'positive_leads') }} as booking_rate_ci_low,
        {{ wilson_high('booked_leads', 'positive_leads') }} as booking_rate_ci_high
    from arms
)

select * from final
