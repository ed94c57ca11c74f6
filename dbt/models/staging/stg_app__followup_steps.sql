with source as (
    select * from {{ source('app', 'followup_steps') }}
),

renamed as (
    select
        id as step_id,
        sequence_id,
        step_number,
        delay_seconds,
        channel,
        template,
        subject,
        created_at,
        updated_at
    from source
)

select * from renamed
