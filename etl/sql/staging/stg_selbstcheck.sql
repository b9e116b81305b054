-- Staging: validated Selbstcheck rows (one row per commune and Handlungsfeld).
create temp view stg_selbstcheck as
with source as (
    select * from raw_selbstcheck
),
renamed as (
    select
        -- ids
        kommune_id,
        handlungsfeld,
        -- numerics
        stand::tinyint as stand,
        -- flags
        prioritaet,
        -- dates
        erhoben_am
    from source
)
select * from renamed;
