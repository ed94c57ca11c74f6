with source as (
    select * from {{ source('app', 'users') }}
),

renamed as (
    select
        id as user_id,
        email,
        last_sign_in_at,
        created_at,
        updated_at
    from source
)

select * from renamed
