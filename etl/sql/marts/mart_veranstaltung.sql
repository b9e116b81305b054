-- Mart: one row per event with its participating communes (shared events have several).
-- The communes' names are joined here once, so pages never search lists per event.
-- Lists are sorted after aggregating (list_sort) rather than by ordered aggregates: the same
-- result (ids and names are never null, ascending like `order by`), about a third less work at
-- national scale (tests/etl/test_marts_same.py compares both forms).
create table mart_veranstaltung as
select
    m.veranstaltung_id,
    min(m.datum) as datum,
    any_value(m.modul) as modul,
    any_value(m.format) as format,
    any_value(m.thema) as thema,
    count(*) as kommunen_anzahl,
    sum(m.teilnehmende) as teilnehmende,
    list_sort(list(m.kommune_id)) as kommune_ids,
    array_to_string(list_sort(list(k.name)), ', ') as kommunen
from modulnutzung as m
join kommune as k using (kommune_id)
group by m.veranstaltung_id;
