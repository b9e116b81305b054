-- Report: Selbstcheck steps reached. The first row "Beginn" counts tracks by their Beginn (the
-- same date as "Dauer" and "Gestartet im Zeitraum"); the step rows count the milestones.
create or replace macro kennzahl_selbstcheck_schritte(von, bis, stichtag, auswahl := null) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis, stichtag::date as stichtag
),
k as materialized (
    select kommune_id, start_am from kz_kommune(stichtag, auswahl := auswahl)
),
schritte as (
    select 0 as reihenfolge, 'Beginn' as schritt, kommune_id, start_am as erreicht_am
    from k
    where start_am is not null
    union all
    select r.reihenfolge, m.meilenstein, m.kommune_id, m.erreicht_am
    from meilenstein as m
    join ref_meilenstein as r using (meilenstein)
    where m.meilenstein in ('Erstgespräch', 'Fragebogen', 'Auswertung', 'Workshop')
        and m.erreicht_am is not null
        and (auswahl is null or list_contains(auswahl, m.kommune_id))
),
zeilen as (
    select 0 as reihenfolge, 'Beginn' as schritt
    union all
    select reihenfolge, meilenstein from ref_meilenstein
    where meilenstein in ('Erstgespräch', 'Fragebogen', 'Auswertung', 'Workshop')
)
select
    z.schritt,
    count(s.kommune_id) filter (where s.erreicht_am between p.von and p.bis) as im_zeitraum,
    count(s.kommune_id) filter (where s.erreicht_am <= p.stichtag) as bis_stichtag,
    median(date_diff('day', k.start_am, s.erreicht_am)) filter (
        where s.erreicht_am <= p.stichtag and z.schritt <> 'Beginn'
    ) as median_tage_seit_beginn
from zeilen as z
cross join params as p
left join schritte as s using (schritt)
left join k using (kommune_id)
group by z.reihenfolge, z.schritt
order by z.reihenfolge;
