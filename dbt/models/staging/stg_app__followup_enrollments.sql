with source as (
    select * from {{ source('app', 'followup_enrollments') }}
),

renamed as (
    select
        id as enrollment_id,
        sequence_id,
        lead_id,
        last_step_number,
        status,
        stop_reason,
        next_due_at,
        enrolled_at,
        ended_at,
        created_at,
        updated_at
    from source
)

select * from renamed
