-- Report: headline figures, one row per figure (counts in `anzahl`, other values in `wert`,
-- `basis_kommunen` = number of communes the figure rests on). The Überblick page and the report
-- both read this macro.
create or replace macro kennzahl_ueberblick(von, bis, stichtag, auswahl := null) as table
with
k as materialized (
    select * from kz_kommune(stichtag, auswahl := auswahl)
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
schritte as materialized (
    select * from kennzahl_selbstcheck_schritte(von, bis, stichtag, auswahl := auswahl)
),
beginn as (
    select im_zeitraum from schritte where schritt = 'Beginn'
),
workshop as (
    select bis_stichtag from schritte where schritt = 'Workshop'
),
dauer as materialized (
    select * from kennzahl_prozessdauer(von, bis, stichtag, auswahl := auswahl)
),
fertig as (
    select * from dauer where gruppe = 'abgeschlossen bis Stichtag'
),
laufend as (
    select * from dauer where gruppe = 'laufend am Stichtag'
),
nutzung as materialized (
    select
        count(distinct veranstaltung_id) as veranstaltungen,
        count(distinct kommune_id) as kommunen,
        coalesce(sum(teilnehmende), 0)::bigint as teilnehmende,
        count(distinct veranstaltung_id) filter (where modul = 2) as vernetzung,
        count(distinct kommune_id) filter (where modul = 2) as vernetzung_kommunen,
        count(distinct veranstaltung_id) filter (where modul = 3) as dialog,
        count(distinct kommune_id) filter (where modul = 3) as dialog_kommunen
    from kz_teilnahme(von, bis, stichtag, auswahl := auswahl)
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
    union all select 7, 'tracks_gestartet', im_zeitraum, null, im_zeitraum from beginn
    union all select 8, 'selbstcheck_workshop', bis_stichtag, null, bis_stichtag from workshop
    union all select 9, 'tracks_abgeschlossen', kommunen, null, kommunen from fertig
    union all select 10, 'median_dauer_monate', null, median_monate, kommunen from fertig
    union all select 11, 'anteil_im_ziel_prozent', null, anteil_im_ziel_prozent, kommunen
    from fertig
    union all select 12, 'tracks_laufend_ueber_ziel', ueber_ziel, null, ueber_ziel from laufend
    union all select 13, 'veranstaltungen', veranstaltungen, null, kommunen from nutzung
    union all select 14, 'teilnehmende', teilnehmende, null, kommunen from nutzung
    union all
    select 15, 'vernetzungsformate', vernetzung, null, vernetzung_kommunen from nutzung
    union all select 16, 'dialogveranstaltungen', dialog, null, dialog_kommunen from nutzung
)
select kennzahl, anzahl, wert, basis as basis_kommunen
from zeilen
order by nr;
