-- Part of the NAP-I report figures; the shared rules are in kz_kommune.sql.

-- ---- report: Selbstcheck steps reached ---------------------------------------------------------
create or replace macro kennzahl_selbstcheck_schritte(von, bis, stichtag) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis, stichtag::date as stichtag
),
erstgespraech as (
    select kommune_id, erreicht_am as erstgespraech_am
    from meilenstein
    where meilenstein = 'Erstgespräch'
)
select
    r.meilenstein as schritt,
    count(m.kommune_id) filter (where m.erreicht_am between p.von and p.bis) as im_zeitraum,
    count(m.kommune_id) filter (where m.erreicht_am <= p.stichtag) as bis_stichtag,
    median(date_diff('day', e.erstgespraech_am, m.erreicht_am)) filter (
        where m.erreicht_am <= p.stichtag
            and e.erstgespraech_am <= p.stichtag
            and r.meilenstein <> 'Erstgespräch'
    ) as median_tage_seit_erstgespraech
from ref_meilenstein as r
cross join params as p
left join meilenstein as m using (meilenstein)
left join erstgespraech as e using (kommune_id)
where r.meilenstein in ('Erstgespräch', 'Fragebogen', 'Auswertung', 'Workshop')
group by r.reihenfolge, r.meilenstein
order by r.reihenfolge;
