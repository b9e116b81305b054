-- Staging: the validated registry rows, cleaned (one row per commune).
create temp view stg_kommunen as
with source as (
    select * from raw_kommunen
),
renamed as (
    select
        -- ids
        kommune_id,
        -- strings
        trim(name) as name,
        typ,
        bundesland,
        nullif(trim(kreis), '') as kreis,
        status,
        -- numerics
        einwohner::integer as einwohner,
        round(lat, 5) as lat,
        round(lon, 5) as lon,
        -- dates
        start_geplant,
        ausgeschieden_am,
        -- contact person (personal data: only staff and, with consent, peers may see it)
        nullif(trim(ansprechperson), '') as ansprechperson,
        lower(email) as email,
        nullif(trim(telefon), '') as telefon,
        -- flags: an empty consent means no consent
        coalesce(vernetzung_zustimmung, false) as vernetzung_zustimmung,
        voraussetzung_ansprechperson,
        voraussetzung_leitung,
        voraussetzung_prozesse,
        voraussetzung_wissensteilung,
        -- free text (staff only)
        nullif(trim(notiz), '') as notiz
    from source
)
select * from renamed;
