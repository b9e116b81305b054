-- Part of the NAP-I report figures; the shared rules are in kz_kommune.sql.

-- ---- report: events and participants per quarter by module, format and topic ------------------
create or replace macro kennzahl_veranstaltungen(von, bis, stichtag) as table
with
t as (
    select * from kz_teilnahme(von, bis, stichtag)
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
    quartal,
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
group by merkmal_nr, merkmal, reihenfolge, auspraegung, quartal
order by merkmal_nr, reihenfolge, auspraegung, quartal;
