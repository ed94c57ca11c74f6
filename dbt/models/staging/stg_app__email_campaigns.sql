with source as (
    select * from {{ source('app', 'email_campaigns') }}
),

renamed as (
    select
        id as email_campaign_id,
        workspace_id,
        external_id,
        name,
        response_mode,
        auto_send_confidence_threshold,
        send_delay_min_seconds,
        send_delay_max_seconds,
        sending_hours,
        in_experiment,
        archived,
        created_at,
        updated_at
    from source
)

select * from renamed
