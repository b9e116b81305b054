-- Staging: validated milestone rows (one row per commune and milestone).
create temp view stg_meilensteine as
with source as (
    select * from raw_meilensteine
),
renamed as (
    select
        -- ids
        kommune_id,
        meilenstein,
        -- dates
        geplant_am,
        erreicht_am,
        -- free text (staff only)
        nullif(trim(notiz), '') as notiz
    from source
)
select * from renamed;
