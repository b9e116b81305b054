-- Mart: one row per event with its participating communes (shared events have several).
-- The communes' names are joined here once, so pages never search lists per event.
create table mart_veranstaltung as
select
    m.veranstaltung_id,
    min(m.datum) as datum,
    any_value(m.modul) as modul,
    any_value(m.format) as format,
    any_value(m.thema) as thema,
    count(*) as kommunen_anzahl,
    sum(m.teilnehmende) as teilnehmende,
    list(m.kommune_id order by m.kommune_id) as kommune_ids,
    string_agg(k.name, ', ' order by k.name) as kommunen
from modulnutzung as m
join kommune as k using (kommune_id)
group by m.veranstaltung_id;
