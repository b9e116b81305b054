-- Report key figures (NAP-I): one table macro per report table (one file each, named after the
-- macro), evaluated as of a cut-off date.
--
-- Every `kennzahl_*` macro takes the same three parameters:
--   von, bis   reporting period (inclusive); a period end after the Stichtag is cut at the Stichtag
--   stichtag   cut-off date: the data are read as they stood on that day
-- The figures' definitions for users (XLSX "Hinweise", PDF, page) live in dashboard/report_defs.py;
-- keep both in step. Rules in short:
--   * a milestone counts as reached only if erreicht_am <= stichtag;
--   * a status holds from the date of the milestone that proves it (abgeschlossen: Abschluss;
--     aktiv: Beginn = Erstgespräch, else the earliest later Selbstcheck step; aufgenommen:
--     Aufnahme; beworben: Bewerbung or Ratsbeschluss; ausgeschieden: estimated exit date). If that
--     date lies after the Stichtag, the commune counts with the status its milestones prove by the
--     Stichtag, or not at all if none. A status without such a date in the data is taken as is;
--   * events (one veranstaltung_id = one event, shared by its communes) count once, in the group
--     of their first row (earliest date, then smallest kommune_id), if that date is in the period;
--     rows dated after the Stichtag are not known yet.
-- Helper macros are prefixed `kz_`; pages and exports read only the `kennzahl_*` macros.

-- ---- helper: one row per commune with its status as of the Stichtag --------------------------
create or replace macro kz_kommune(stichtag) as table
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
        -- the input has no exit date: estimated as the planned date of the first milestone the
        -- commune did not reach any more (else its last reached milestone), at most the data date
        case when k.status = 'ausgeschieden' then
            least(p.datenstand,
                  greatest(coalesce(n.naechster_geplant_am, d.letzter_am, p.datenstand),
                           d.letzter_am))
        end as austritt_am,
        p.stichtag
    from kommune as k
    left join datiert as d using (kommune_id)
    left join naechster as n using (kommune_id)
    cross join params as p
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
        when b.status_belegt_am is null or b.status_belegt_am <= b.stichtag then b.status_register
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
