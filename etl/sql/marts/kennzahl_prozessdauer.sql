-- Part of the NAP-I report figures; the shared rules are in kz_kommune.sql.

-- ---- report: track durations (Beginn → Abschluss) against the target ---------------------------
create or replace macro kennzahl_prozessdauer(von, bis, stichtag) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis, stichtag::date as stichtag,
        z.ziel_monate_max
    from ref_programm as z
),
tracks as (
    -- finished: Beginn and Abschluss reached by the Stichtag; running: aktiv at the Stichtag
    select 2 as nr, 'abgeschlossen im Zeitraum' as gruppe,
        date_diff('day', k.start_am, k.abschluss_am) as tage, p.ziel_monate_max
    from kz_kommune(stichtag) as k, params as p
    where k.start_am is not null and k.abschluss_am between p.von and p.bis
    union all
    select 1, 'abgeschlossen bis Stichtag',
        date_diff('day', k.start_am, k.abschluss_am), p.ziel_monate_max
    from kz_kommune(stichtag) as k, params as p
    where k.start_am is not null and k.abschluss_am is not null
    union all
    select 3, 'laufend am Stichtag',
        date_diff('day', k.start_am, p.stichtag), p.ziel_monate_max
    from kz_kommune(stichtag) as k, params as p
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
    round(median(t.tage) / 30.44, 1) as median_monate,
    round(100.0 * avg(case
        when t.tage is null then null
        when t.tage / 30.44 <= t.ziel_monate_max then 1
        else 0
    end), 1) as anteil_im_ziel_prozent
from gruppen as g
left join tracks as t using (nr)
group by g.nr, g.gruppe
order by g.nr;
