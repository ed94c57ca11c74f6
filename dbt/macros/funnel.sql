{# The lead-funnel counts and rates shared by campaign_kpis and campaign_segment_kpis. #}
{% macro funnel_counts(leads) -%}
        count(*) as leads,
        count(case when {{ leads }}.has_replied then 1 end) as leads_replied,
        count(case when {{ leads }}.is_positive then 1 end) as positive_leads,
        count(case when {{ leads }}.is_meeting_requested then 1 end) as meetings_requested_leads,
        count(case when {{ leads }}.is_booked then 1 end) as booked_leads,
        count(case when {{ leads }}.is_booked and {{ leads }}.is_positive then 1 end)
            as booked_positive_leads,
        count(case when {{ leads }}.is_booked and {{ leads }}.is_meeting_requested then 1 end)
            as booked_meeting_requested_leads,
        percentile_cont(0.5) within group (order by {{ leads }}.response_seconds)
            as median_first_response_seconds
{%- endmacro %}

{% macro funnel_rates(counts) -%}
        {{ counts }}.leads_replied * 1.0 / nullif({{ counts }}.leads, 0) as reply_rate,
        {{ counts }}.positive_leads * 1.0 / nullif({{ counts }}.leads_replied, 0) as positive_rate,
        {{ counts }}.meetings_requested_leads * 1.0 / nullif({{ counts }}.positive_leads, 0)
            as meeting_request_rate,
        {{ counts }}.booked_positive_leads * 1.0 / nullif({{ counts }}.positive_leads, 0)
            as booking_rate,
        {{ counts }}.booked_meeting_requested_leads * 1.0
            / nullif({{ counts }}.meetings_requested_leads, 0) as booked_per_meeting_requested
{%- endmacro %}
