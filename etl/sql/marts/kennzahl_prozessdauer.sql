-- Report: track durations (Beginn → Abschluss) against the target band of 4–6 months. Finished
-- tracks without a reached Beginn have no duration and are not counted here.
create or replace macro kennzahl_prozessdauer(von, bis, stichtag, auswahl := null) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis, stichtag::date as stichtag,
        z.ziel_monate_min, z.ziel_monate_max
    from ref_programm as z
),
k as materialized (
    select * from kz_kommune(stichtag, auswahl := auswahl)
),
tracks as (
    -- finished: Beginn and Abschluss reached by the Stichtag; running: aktiv at the Stichtag
    select 1 as nr, date_diff('day', k.start_am, k.abschluss_am) as tage
    from k
    where k.start_am is not null and k.abschluss_am is not null
    union all
    select 2, date_diff('day', k.start_am, k.abschluss_am)
    from k, params as p
    where k.start_am is not null and k.abschluss_am between p.von and p.bis
    union all
    select 3, date_diff('day', k.start_am, p.stichtag)
    from k, params as p
    where k.status = 'aktiv' and k.start_am is not null and k.abschluss_am is null
),
gruppen as (
    select * from (values
        (1, 'abgeschlossen bis Stichtag'),
        (2, 'abgeschlossen im Zeitraum'),
        (3, 'laufend am Stichtag')
    ) as g (nr, gruppe)
)
select
    g.gruppe,
    count(t.tage) as kommunen,
    count(t.tage) filter (where t.tage / 30.44 < p.ziel_monate_min) as unter_ziel,
    count(t.tage) filter (where t.tage / 30.44 between p.ziel_monate_min and p.ziel_monate_max)
        as im_zielband,
    count(t.tage) filter (where t.tage / 30.44 > p.ziel_monate_max) as ueber_ziel,
    round(median(t.tage) / 30.44, 1) as median_monate,
    round(100.0 * avg(case
        when t.tage is null then null
        when t.tage / 30.44 <= p.ziel_monate_max then 1
        else 0
    end), 1) as anteil_im_ziel_prozent
from gruppen as g
cross join params as p
left join tracks as t using (nr)
group by g.nr, g.gruppe
order by g.nr;
