with source as (
    select * from {{ source('app', 'workspaces') }}
),

renamed as (
    select
        id as workspace_id,
        name,
        timezone,
        booking_provider,
        calendly_scheduling_url,
        ghl_location_id,
        ghl_calendar_id,
        ghl_booking_url,
        email_platform,
        email_platform_url,
        review_slack_email,
        review_slack_user_id,
        report_slack_channel,
        auto_send_enabled,
        business_hours_start,
        business_hours_end,
        created_at,
        updated_at
    from source
)

select * from renamed
