-- Report: participating communes by type, size class and Bundesland (every value of each
-- attribute, also without communes). Each commune has exactly one value per attribute, so every
-- column summed over one Merkmal equals the figure of the whole selection.
create or replace macro kennzahl_kommunen_merkmale(von, bis, stichtag, auswahl := null) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis
),
k as materialized (
    select * from kz_kommune(stichtag, auswahl := auswahl)
),
auspraegungen as (
    select 1 as merkmal_nr, 'Art' as merkmal, typ as auspraegung, reihenfolge
    from ref_kommune_typ
    union all
    select 2, 'Größenklasse', groessenklasse, reihenfolge from ref_groessenklasse
    union all
    select 3, 'Bundesland', bundesland, reihenfolge from ref_bundesland
),
zuordnung as (
    select 'Art' as merkmal, typ as auspraegung, * from k
    union all
    select 'Größenklasse', groessenklasse, * from k
    union all
    select 'Bundesland', bundesland, * from k
)
select
    a.merkmal,
    a.auspraegung,
    count(z.kommune_id) filter (where z.status in ('aufgenommen', 'aktiv', 'abgeschlossen'))
        as teilnehmend,
    count(z.kommune_id) filter (where z.status = 'aktiv') as aktiv,
    count(z.kommune_id) filter (where z.status = 'abgeschlossen') as abgeschlossen,
    coalesce(sum(z.einwohner) filter (where z.status in ('aktiv', 'abgeschlossen')), 0)::bigint
        as einwohner_erreicht,
    count(z.kommune_id) filter (where z.start_am between p.von and p.bis) as gestartet_im_zeitraum
from auspraegungen as a
cross join params as p
left join zuordnung as z using (merkmal, auspraegung)
group by a.merkmal_nr, a.merkmal, a.reihenfolge, a.auspraegung
order by a.merkmal_nr, a.reihenfolge;
