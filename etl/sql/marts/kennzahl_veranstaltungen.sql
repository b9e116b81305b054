-- Report: events and participants per quarter, in total and by module, format and topic, plus one
-- row per value for the whole period (quartal = 'Zeitraum'). An event counts in the quarter of its
-- date (see kz_teilnahme); participants by sector, the rest as "ohne Sektor".
create or replace macro kennzahl_veranstaltungen(von, bis, stichtag, auswahl := null) as table
with
t as materialized (
    select * from kz_teilnahme(von, bis, stichtag, auswahl := auswahl)
),
zuordnung as (
    select 1 as merkmal_nr, 'Insgesamt' as merkmal, 'alle Veranstaltungen' as auspraegung,
        0 as reihenfolge, * from t
    union all
    select 2, 'Modul', t.modul::varchar || ' ' || r.bezeichnung, t.modul, t.*
    from t join ref_modul as r using (modul)
    union all
    select 3, 'Format', t.format, coalesce(f.reihenfolge, 99), t.*
    from t left join ref_format as f using (format)
    union all
    select 4, 'Thema', t.thema, 0, t.* from t
)
select
    coalesce(quartal, 'Zeitraum') as quartal,
    merkmal,
    auspraegung,
    count(distinct veranstaltung_id) as veranstaltungen,
    count(*) as teilnahmen,
    count(distinct kommune_id) as kommunen,
    sum(teilnehmende)::bigint as teilnehmende,
    sum(verwaltung)::bigint as verwaltung,
    sum(politik)::bigint as politik,
    sum(zivilgesellschaft)::bigint as zivilgesellschaft,
    sum(wirtschaft)::bigint as wirtschaft,
    sum(einwohnerschaft)::bigint as einwohnerschaft,
    sum(teilnehmende - verwaltung - politik - zivilgesellschaft - wirtschaft - einwohnerschaft)
        ::bigint as ohne_sektor
from zuordnung
group by grouping sets (
    (merkmal_nr, merkmal, reihenfolge, auspraegung, quartal),
    (merkmal_nr, merkmal, reihenfolge, auspraegung)
)
order by merkmal_nr, reihenfolge, auspraegung, quartal nulls last;
