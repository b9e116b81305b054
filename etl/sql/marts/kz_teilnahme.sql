-- Report helper: module uptake rows of the events in the period (one row per commune and event).
--
-- Shared events: one veranstaltung_id is one event, shared by its communes. Only rows dated within
-- the evaluated period end (the period end, at most the Stichtag) are known. The event counts in
-- the period of its first known row (earliest date, then smallest kommune_id), with that row's
-- module, format and topic; it is "kommunenübergreifend" if at least two communes have a known
-- row. Rows dated after the period end never change an event of the period, so the figures of a
-- period do not depend on a Stichtag after it. `auswahl` restricts the participation rows, not
-- the events: a shared event stays shared in a filtered view.
create or replace macro kz_teilnahme(von, bis, stichtag, auswahl := null) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis
),
bekannt as (
    select m.*
    from modulnutzung as m, params as p
    where m.datum <= p.bis
),
veranstaltung as (
    select
        veranstaltung_id,
        min(datum) as datum,
        first(modul order by datum, kommune_id) as modul,
        first(format order by datum, kommune_id) as format,
        first(thema order by datum, kommune_id) as thema,
        count(distinct kommune_id) as kommunen_anzahl
    from bekannt
    group by veranstaltung_id
)
select
    t.kommune_id,
    t.veranstaltung_id,
    v.datum,
    strftime(v.datum, '%Y') || '-Q' || quarter(v.datum) as quartal,
    v.modul,
    v.format,
    v.thema,
    v.kommunen_anzahl,
    t.teilnehmende,
    coalesce(t.verwaltung, 0) as verwaltung,
    coalesce(t.politik, 0) as politik,
    coalesce(t.zivilgesellschaft, 0) as zivilgesellschaft,
    coalesce(t.wirtschaft, 0) as wirtschaft,
    coalesce(t.einwohnerschaft, 0) as einwohnerschaft
from bekannt as t
join veranstaltung as v using (veranstaltung_id)
cross join params as p
where v.datum between p.von and p.bis
    and (auswahl is null or list_contains(auswahl, t.kommune_id));
