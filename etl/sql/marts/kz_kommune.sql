-- Report key figures (NAP-I), helper: one row per commune of the register with its status as of a
-- cut-off date. The NAP-I figures are table macros `kennzahl_*` (files 12–18); they all take
--   von, bis   reporting period (inclusive); a period end after the Stichtag is cut at the Stichtag
--   stichtag   cut-off date: the data are read as they stood on that day
--   auswahl    optional list of kommune_id (the page filters); null = every commune
-- The definitions for users (XLSX "Hinweise", PDF, pages) live in dashboard/report_defs.py
-- (RULES_DE); keep both in step. Helper macros are prefixed `kz_`.
--
-- Status at the Stichtag is proved by dates: a status holds from the date of the milestone that
-- proves it (abgeschlossen: Abschluss; aktiv: Beginn; aufgenommen: Aufnahme; beworben: Bewerbung
-- or Ratsbeschluss; ausgeschieden: ausgeschieden_am, else an estimated exit date). If that date
-- lies after the Stichtag or is missing, the commune counts with the status its reached milestones
-- prove by the Stichtag, or as "not yet in the programme" (status null) if none. Only
-- `interessiert` needs no proof. Beginn of a track = Erstgespräch reached, else the earliest
-- reached later Selbstcheck step (Fragebogen, Auswertung, Workshop).
create or replace macro kz_kommune(stichtag, auswahl := null) as table
with
params as (
    select stichtag::date as stichtag, datenstand from meta_build
),
ms as (
    select m.kommune_id, m.meilenstein, r.reihenfolge, m.geplant_am, m.erreicht_am
    from meilenstein as m
    join ref_meilenstein as r using (meilenstein)
),
datiert as (
    -- dates that prove a status (from the data, independent of the Stichtag)
    select
        kommune_id,
        max(erreicht_am) filter (where meilenstein = 'Abschluss') as abschluss_am,
        coalesce(
            max(erreicht_am) filter (where meilenstein = 'Erstgespräch'),
            min(erreicht_am) filter (where meilenstein in ('Fragebogen', 'Auswertung', 'Workshop'))
        ) as start_am,
        max(erreicht_am) filter (where meilenstein = 'Aufnahme') as aufnahme_am,
        min(erreicht_am) filter (where meilenstein in ('Bewerbung', 'Ratsbeschluss'))
            as bewerbung_am,
        max(reihenfolge) filter (where erreicht_am is not null) as letzter_index,
        max(erreicht_am) as letzter_am
    from ms
    group by kommune_id
),
naechster as (
    -- planned date of the first open milestone after the last reached one
    select ms.kommune_id, arg_min(ms.geplant_am, ms.reihenfolge) as naechster_geplant_am
    from ms
    left join datiert as d using (kommune_id)
    where ms.erreicht_am is null
        and ms.geplant_am is not null
        and ms.reihenfolge > coalesce(d.letzter_index, 0)
    group by ms.kommune_id
),
basis as (
    select
        k.kommune_id,
        k.typ,
        k.bundesland,
        k.einwohner,
        k.status as status_register,
        d.abschluss_am,
        d.start_am,
        d.aufnahme_am,
        d.bewerbung_am,
        -- without ausgeschieden_am the exit is estimated as the planned date of the first
        -- milestone the commune did not reach any more (else its last reached milestone), at most
        -- the data date
        case when k.status = 'ausgeschieden' then
            coalesce(k.ausgeschieden_am,
                     least(p.datenstand,
                           greatest(coalesce(n.naechster_geplant_am, d.letzter_am, p.datenstand),
                                    d.letzter_am)))
        end as austritt_am,
        p.stichtag
    from kommune as k
    left join datiert as d using (kommune_id)
    left join naechster as n using (kommune_id)
    cross join params as p
    where auswahl is null or list_contains(auswahl, k.kommune_id)
),
belegt as (
    select
        *,
        case status_register
            when 'abgeschlossen' then abschluss_am
            when 'aktiv' then start_am
            when 'aufgenommen' then aufnahme_am
            when 'beworben' then bewerbung_am
            when 'ausgeschieden' then austritt_am
        end as status_belegt_am
    from basis
)
select
    b.kommune_id,
    b.typ,
    b.bundesland,
    b.einwohner,
    g.groessenklasse,
    b.status_register,
    case
        when b.status_register = 'interessiert' then 'interessiert'
        when b.status_belegt_am <= b.stichtag then b.status_register
        when b.abschluss_am <= b.stichtag then 'abgeschlossen'
        when b.start_am <= b.stichtag then 'aktiv'
        when b.aufnahme_am <= b.stichtag then 'aufgenommen'
        when b.bewerbung_am <= b.stichtag then 'beworben'
    end as status,
    case when b.start_am <= b.stichtag then b.start_am end as start_am,
    case when b.abschluss_am <= b.stichtag then b.abschluss_am end as abschluss_am,
    b.austritt_am
from belegt as b
left join ref_groessenklasse as g
    on b.einwohner >= g.von and (g.bis is null or b.einwohner < g.bis);
