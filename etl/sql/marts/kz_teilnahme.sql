-- Part of the NAP-I report figures; the shared rules are in kz_kommune.sql.

-- ---- helper: module uptake rows of the events in the period -----------------------------------
create or replace macro kz_teilnahme(von, bis, stichtag) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis, stichtag::date as stichtag
),
bekannt as (
    select m.*
    from modulnutzung as m, params as p
    where m.datum <= p.stichtag
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
where v.datum between p.von and p.bis;
