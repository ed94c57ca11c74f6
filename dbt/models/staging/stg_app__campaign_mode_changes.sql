with source as (
    select * from {{ source('app', 'campaign_mode_changes') }}
),

renamed as (
    select
        id as mode_change_id,
        workspace_id,
        email_campaign_id,
        from_mode,
        to_mode,
        threshold,
        reason,
        changed_by,
        changed_at,
        created_at,
        updated_at
    from source
)

select * from renamed
