with source as (
    select * from {{ source('app', 'followup_sequences') }}
),

renamed as (
    select
        id as sequence_id,
        workspace_id,
        name,
        active,
        created_at,
        updated_at
    from source
)

select * from renamed
