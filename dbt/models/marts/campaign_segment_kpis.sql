with leads as (
    select * from {{ ref('int_leads_summarised') }}
),

segmented as (
    select
        leads.*,
        'industry' as segment_type,
        leads.industry_segment as segment_value
    from leads
    union all
    select
        leads.*,
        'headcount_bucket' as segment_type,
        leads.headcount_bucket as segment_value
    from leads
),

counts as (
    select
        segmented.workspace_id,
        segmented.email_campaign_id,
        segmented.segment_type,
        segmented.segment_value,
        {{ funnel_counts('segmented') }}
    from segmented
    where segmented.email_campaign_id is not null
    group by 1, 2, 3, 4
),

final as (
    select
        counts.workspace_id,
        counts.email_campaign_id,
        counts.segment_type,
        counts.segment_value,
        counts.leads,
        counts.leads_replied,
        counts.positive_leads,
        counts.meetings_requested_leads,
        counts.booked_leads,
        counts.booked_positive_leads,
        counts.booked_meeting_requested_leads,
        {{ funnel_rates('counts') }},
        counts.median_first_response_seconds
    from counts
)

select * from final
