with source as (
    select * from {{ source('app', 'unmatched_bookings') }}
),

renamed as (
    select
        id as unmatched_booking_id,
        workspace_id,
        booking_event_id,
        invitee_email,
        matched_lead_id,
        matched_at,
        created_at,
        updated_at
    from source
)

select * from renamed
