-- Part of the NAP-I report figures; the shared rules are in kz_kommune.sql.

-- ---- report: communes by status as of the Stichtag ---------------------------------------------
create or replace macro kennzahl_kommunen_status(von, bis, stichtag) as table
select
    r.status,
    count(k.kommune_id) as kommunen,
    coalesce(sum(k.einwohner), 0)::bigint as einwohner
from ref_status as r
left join kz_kommune(stichtag) as k on k.status = r.status
group by r.status, r.reihenfolge
order by r.reihenfolge;
