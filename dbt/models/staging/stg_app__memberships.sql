with source as (
    select * from {{ source('app', 'memberships') }}
),

renamed as (
    select
        id as membership_id,
        user_id,
        workspace_id,
        role,
        assignment_weight,
        assignment_paused,
        created_at,
        updated_at
    from source
)

select * from renamed
