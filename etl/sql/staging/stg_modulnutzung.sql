-- Staging: validated module uptake rows (one row per commune and event).
create temp view stg_modulnutzung as
with source as (
    select * from raw_modulnutzung
),
renamed as (
    select
        -- ids (text arrives trimmed: etl/sql/checks/modulnutzung.sql)
        kommune_id,
        veranstaltung_id,
        -- strings
        modul::tinyint as modul,
        format,
        coalesce(thema, 'ohne Thema') as thema,
        -- dates
        datum,
        -- numerics
        teilnehmende::integer as teilnehmende,
        verwaltung::integer as verwaltung,
        politik::integer as politik,
        zivilgesellschaft::integer as zivilgesellschaft,
        wirtschaft::integer as wirtschaft,
        einwohnerschaft::integer as einwohnerschaft
    from source
)
select * from renamed;
