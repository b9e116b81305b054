-- Report key figures (NAP-I): one table macro per report table, evaluated as of a cut-off date.
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


-- ---- report: participating communes by type, size class and Bundesland --------------------------
create or replace macro kennzahl_kommunen_merkmale(von, bis, stichtag) as table
with
params as (
    select von::date as von, least(bis::date, stichtag::date) as bis
),
k as (
    select * from kz_kommune(stichtag)
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


-- ---- report: events and participants per quarter by module, format and topic ------------------
create or replace macro kennzahl_veranstaltungen(von, bis, stichtag) as table
with
t as (
    select * from kz_teilnahme(von, bis, stichtag)
),
zuordnung as (
    select 1 as merkmal_nr, 'Insgesamt' as merkmal, 'alle Veranstaltungen' as auspraegung,
        0 as reihenfolge, * from t
    union all
    select 2, 'Modul', t.modul::varchar || ' ' || r.bezeichnung, t.modul, t.*
    from t join ref_modul as r using (modul)
    union all
    select 3, 'Format', t.format, coalesce(f.reihenfolge, 99), t.*
    from t left join ref_format as f using (format)
    union all
    select 4, 'Thema', t.thema, 0, t.* from t
)
select
    quartal,
    merkmal,
    auspraegung,
    count(distinct veranstaltung_id) as veranstaltungen,
    count(*) as teilnahmen,
    count(distinct kommune_id) as kommunen,
    sum(teilnehmende)::bigint as teilnehmende,
    sum(verwaltung)::bigint as verwaltung,
    sum(politik)::bigint as politik,
    sum(zivilgesellschaft)::bigint as zivilgesellschaft,
    sum(wirtschaft)::bigint as wirtschaft,
    sum(einwohnerschaft)::bigint as einwohnerschaft,
    sum(teilnehmende - verwaltung - politik - zivilgesellschaft - wirtschaft - einwohnerschaft)
        ::bigint as ohne_sektor
from zuordnung
group by merkmal_nr, merkmal, reihenfolge, auspraegung, quartal
order by merkmal_nr, reihenfolge, auspraegung, quartal;


-- ---- report: networking formats (module 2) and dialogue events (module 3) --------------------
create or replace macro kennzahl_dialog_vernetzung(von, bis, stichtag) as table
select
    t.modul,
    r.bezeichnung as modul_bezeichnung,
    t.format,
    count(distinct t.veranstaltung_id) as veranstaltungen,
    count(distinct t.veranstaltung_id) filter (where t.kommunen_anzahl >= 2)
        as kommunenuebergreifend,
    count(distinct t.kommune_id) as kommunen,
    sum(t.teilnehmende)::bigint as teilnehmende
from kz_teilnahme(von, bis, stichtag) as t
join ref_modul as r using (modul)
left join ref_format as f using (format)
where t.modul in (2, 3)
group by t.modul, r.bezeichnung, f.reihenfolge, t.format
order by t.modul, f.reihenfolge, t.format;


-- ---- report: headline figures (one row per figure; counts in `anzahl`, other values in `wert`) -
create or replace macro kennzahl_ueberblick(von, bis, stichtag) as table
with
k as (
    select * from kz_kommune(stichtag)
),
status as (
    select
        count(*) filter (where status in ('aufgenommen', 'aktiv', 'abgeschlossen'))
            as teilnehmend,
        count(*) filter (where status = 'aktiv') as aktiv,
        count(*) filter (where status = 'abgeschlossen') as abgeschlossen,
        count(*) filter (where status = 'ausgeschieden') as ausgeschieden,
        coalesce(sum(einwohner) filter (where status in ('aktiv', 'abgeschlossen')), 0)::bigint
            as einwohner_erreicht,
        count(distinct bundesland) filter (
            where status in ('aufgenommen', 'aktiv', 'abgeschlossen')) as bundeslaender
    from k
),
workshop as (
    select bis_stichtag from kennzahl_selbstcheck_schritte(von, bis, stichtag)
    where schritt = 'Workshop'
),
dauer as (
    select * from kennzahl_prozessdauer(von, bis, stichtag)
    where gruppe = 'abgeschlossen bis Stichtag'
),
nutzung as (
    select
        count(distinct veranstaltung_id) as veranstaltungen,
        count(distinct kommune_id) as kommunen,
        coalesce(sum(teilnehmende), 0)::bigint as teilnehmende,
        count(distinct veranstaltung_id) filter (where modul = 2) as vernetzung,
        count(distinct kommune_id) filter (where modul = 2) as vernetzung_kommunen,
        count(distinct veranstaltung_id) filter (where modul = 3) as dialog,
        count(distinct kommune_id) filter (where modul = 3) as dialog_kommunen
    from kz_teilnahme(von, bis, stichtag)
),
zeilen as (
    select 1 as nr, 'kommunen_teilnehmend' as kennzahl, teilnehmend::bigint as anzahl,
        null::double as wert, teilnehmend::bigint as basis
    from status
    union all select 2, 'kommunen_aktiv', aktiv, null, aktiv from status
    union all select 3, 'kommunen_abgeschlossen', abgeschlossen, null, abgeschlossen from status
    union all select 4, 'kommunen_ausgeschieden', ausgeschieden, null, ausgeschieden from status
    union all
    select 5, 'einwohner_erreicht', einwohner_erreicht, null, aktiv + abgeschlossen from status
    union all select 6, 'bundeslaender', bundeslaender, null, teilnehmend from status
    union all select 7, 'selbstcheck_workshop', bis_stichtag, null, bis_stichtag from workshop
    union all select 8, 'tracks_abgeschlossen', kommunen, null, kommunen from dauer
    union all select 9, 'median_dauer_monate', null, median_monate, kommunen from dauer
    union all select 10, 'anteil_im_ziel_prozent', null, anteil_im_ziel_prozent, kommunen from dauer
    union all select 11, 'veranstaltungen', veranstaltungen, null, kommunen from nutzung
    union all select 12, 'teilnehmende', teilnehmende, null, kommunen from nutzung
    union all
    select 13, 'vernetzungsformate', vernetzung, null, vernetzung_kommunen from nutzung
    union all select 14, 'dialogveranstaltungen', dialog, null, dialog_kommunen from nutzung
)
select kennzahl, anzahl, wert, basis as basis_kommunen
from zeilen
order by nr;
