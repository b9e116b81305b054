-- Mart: module uptake pre-aggregated per commune, month, module, format and topic, so pages never
-- read the raw uptake table; joined to mart_kommune for the shared filters.
create table mart_nutzung_monat as
select
    kommune_id,
    date_trunc('month', datum)::date as monat,
    modul,
    format,
    thema,
    count(*) as teilnahmen,
    -- (kommune_id, veranstaltung_id) is unique, so within one commune every row is one event
    count(*) as veranstaltungen,
    sum(teilnehmende) as teilnehmende,
    sum(verwaltung) as verwaltung,
    sum(politik) as politik,
    sum(zivilgesellschaft) as zivilgesellschaft,
    sum(wirtschaft) as wirtschaft,
    sum(einwohnerschaft) as einwohnerschaft
from modulnutzung
group by all;

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
