-- Report: networking formats (module 2) and dialogue events (module 3) in the period.
create or replace macro kennzahl_dialog_vernetzung(von, bis, stichtag, auswahl := null) as table
select
    t.modul,
    r.bezeichnung as modul_bezeichnung,
    t.format,
    count(distinct t.veranstaltung_id) as veranstaltungen,
    count(distinct t.veranstaltung_id) filter (where t.kommunen_anzahl >= 2)
        as kommunenuebergreifend,
    count(distinct t.kommune_id) as kommunen,
    sum(t.teilnehmende)::bigint as teilnehmende
from kz_teilnahme(von, bis, stichtag, auswahl := auswahl) as t
join ref_modul as r using (modul)
left join ref_format as f using (format)
where t.modul in (2, 3)
group by t.modul, r.bezeichnung, f.reihenfolge, t.format
order by t.modul, f.reihenfolge, t.format;
