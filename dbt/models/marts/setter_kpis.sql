with responses as (
    select * from {{ ref('int_setter_responses') }}
),

users as (
    select * from {{ ref('stg_app__users') }}
),

weekly as (
    select
        workspace_id,
        assigned_user_id as user_id,
        {{ week_start('assigned_at', 'timezone') }} as week_start,
        count(*) as assigned_positive_leads,
        count(answered_at) as answered_leads,
        percentile_cont(0.5) within group (order by response_business_seconds)
            as median_first_response_business_seconds,
        percentile_cont(0.9) within group (order by response_business_seconds)
            as p90_first_response_business_seconds,
        count(case when is_booked then 1 end) as booked_leads
    from responses
    where is_positive
    group by 1, 2, 3
),

final as (
    select
        weekly.workspace_id,
        weekly.user_id,
        users.email as setter_email,
        weekly.week_start,
        weekly.assigned_positive_leads,
        weekly.answered_leads,
        weekly.median_first_response_business_seconds,
        weekly.p90_first_response_business_seconds,
        weekly.booked_leads,
        weekly.booked_leads * 1.0 / nullif(weekly.assigned_positive_leads, 0) as booking_rate
    from weekly
    left join users
        on weekly.user_id = users.user_id
)

select * from final
