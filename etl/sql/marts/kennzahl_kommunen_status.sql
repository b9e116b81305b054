-- Report: every commune of the register (or of `auswahl`) by its status as of the Stichtag, with a
-- row for communes not yet in the programme (no status proved by then) and a total row.
create or replace macro kennzahl_kommunen_status(von, bis, stichtag, auswahl := null) as table
with
k as (
    select * from kz_kommune(stichtag, auswahl := auswahl)
),
zeilen as (
    select r.reihenfolge, r.status from ref_status as r
    union all
    select 0, 'noch nicht im Programm'
    union all
    select 99, 'Insgesamt'
)
select
    z.status,
    count(k.kommune_id) as kommunen,
    coalesce(sum(k.einwohner), 0)::bigint as einwohner
from zeilen as z
left join k
    on z.status = 'Insgesamt'
    or z.status = coalesce(k.status, 'noch nicht im Programm')
group by z.reihenfolge, z.status
order by z.reihenfolge;
