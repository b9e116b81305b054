-- Checks: modulnutzung.csv/.xlsx, read into `pruef_roh` (every column as text, `_zeile` = the
-- spreadsheet row; see etl/checks.py).
-- Creates `pruef_modulnutzung` (typed rows with `gut` = every column and row rule holds),
-- `abgelehnt_modulnutzung` (one line per failed rule: zeile, spalte, wert, meldung), the view
-- `raw_modulnutzung` of the rows that passed every rule, which staging reads, and
-- `zahlen_modulnutzung` (rows read, rows loaded).
-- Known communes (for the reference rule) come from `pruef_kommunen`.

-- this file's column rules as a constant (`r('spalte')`), folded into every expression once
set variable regel = (
    select map(list(spalte), list(regel)) from ref_spalte_regel where datei = 'modulnutzung'
);

-- The rows are written in the file's order (DuckDB keeps it for a query without a join), so for a
-- CSV read from disk the table's rowid numbers them (`pruef_modulnutzung_zeilen`): the file is read
-- once, straight into this check. The optimizer would turn the allowed-value tests (list_contains
-- with a constant list) into a join, which loses the order; that rewrite is off for this statement.
set disabled_optimizers = 'in_clause';

create or replace temp table pruef_modulnutzung as
with schnell as (
    -- dates as dd.mm.yyyy and whole numbers as plain digits (the usual case) parse by one call
    select
        *,
        try_strptime(datum, '%d.%m.%Y') as datum__zeit,
        try_cast(teilnehmende as bigint) as teilnehmende__zahl,
        try_cast(verwaltung as bigint) as verwaltung__zahl,
        try_cast(politik as bigint) as politik__zahl,
        try_cast(zivilgesellschaft as bigint) as zivilgesellschaft__zahl,
        try_cast(wirtschaft as bigint) as wirtschaft__zahl,
        try_cast(einwohnerschaft as bigint) as einwohnerschaft__zahl
    from pruef_roh
),
sauber as (
    -- cells already in their canonical form (8-digit AGS, an allowed value as spelled, dd.mm.yyyy,
    -- plain digits) need neither trimming nor the parsers; every other cell takes the full way
    select
        *,
        regexp_full_match(kommune_id, '[0-9]{8}') as kommune_id__ok,
        list_contains(r('modul').erlaubt, modul) as modul__ok,
        list_contains(r('format').erlaubt, format) as format__ok,
        strftime(datum__zeit, '%d.%m.%Y') = datum as datum__ok,
        teilnehmende__zahl::varchar = teilnehmende as teilnehmende__ok,
        verwaltung__zahl::varchar = verwaltung as verwaltung__ok,
        politik__zahl::varchar = politik as politik__ok,
        zivilgesellschaft__zahl::varchar = zivilgesellschaft as zivilgesellschaft__ok,
        wirtschaft__zahl::varchar = wirtschaft as wirtschaft__ok,
        einwohnerschaft__zahl::varchar = einwohnerschaft as einwohnerschaft__ok
    from schnell
),
eingang as (
    select
        _zeile as zeile_gelesen,
        -- fully empty lines (Excel leaves some at the end) are not rows
        coalesce(kommune_id, veranstaltung_id, modul, format, thema, datum, teilnehmende,
                 verwaltung, politik, zivilgesellschaft, wirtschaft, einwohnerschaft) is null
            as leer,
        roh_wenn(kommune_id__ok, kommune_id) as kommune_id__roh,
        roh(veranstaltung_id) as veranstaltung_id__roh,
        roh_wenn(modul__ok, modul) as modul__roh,
        roh_wenn(format__ok, format) as format__roh,
        roh(thema) as thema__roh,
        roh_wenn(datum__ok, datum) as datum__roh,
        roh_wenn(teilnehmende__ok, teilnehmende) as teilnehmende__roh,
        roh_wenn(verwaltung__ok, verwaltung) as verwaltung__roh,
        roh_wenn(politik__ok, politik) as politik__roh,
        roh_wenn(zivilgesellschaft__ok, zivilgesellschaft) as zivilgesellschaft__roh,
        roh_wenn(wirtschaft__ok, wirtschaft) as wirtschaft__roh,
        roh_wenn(einwohnerschaft__ok, einwohnerschaft) as einwohnerschaft__roh,
        columns('__(ok|zahl|zeit)$')
    from sauber
),
typisiert as (
    select
        e.*,
        case when kommune_id__ok then kommune_id__roh else parse_ags(kommune_id__roh) end
            as kommune_id,
        veranstaltung_id__roh as veranstaltung_id,
        case when modul__ok then modul__roh else parse_enum(modul__roh, r('modul').erlaubt) end
            as modul,
        case when format__ok then format__roh
            else parse_enum(format__roh, r('format').erlaubt) end as format,
        thema__roh as thema,
        case when datum__ok then datum__zeit::date else parse_date(datum__roh) end
            as datum,
        zahl_wenn(teilnehmende__ok, teilnehmende__zahl, teilnehmende__roh) as teilnehmende,
        zahl_wenn(verwaltung__ok, verwaltung__zahl, verwaltung__roh) as verwaltung,
        zahl_wenn(politik__ok, politik__zahl, politik__roh) as politik,
        zahl_wenn(zivilgesellschaft__ok, zivilgesellschaft__zahl, zivilgesellschaft__roh)
            as zivilgesellschaft,
        zahl_wenn(wirtschaft__ok, wirtschaft__zahl, wirtschaft__roh) as wirtschaft,
        zahl_wenn(einwohnerschaft__ok, einwohnerschaft__zahl, einwohnerschaft__roh)
            as einwohnerschaft
    from eingang as e
),
geprueft as (
    select
        t.*,
        coalesce(verwaltung, 0) + coalesce(politik, 0) + coalesce(zivilgesellschaft, 0)
            + coalesce(wirtschaft, 0) + coalesce(einwohnerschaft, 0) as sektoren,
        gut_typ(r('kommune_id'), kommune_id__roh, kommune_id)
            and gut_text(r('veranstaltung_id'), veranstaltung_id__roh)
            and gut_typ(r('modul'), modul__roh, modul)
            and gut_typ(r('format'), format__roh, format)
            and gut_text(r('thema'), thema__roh)
            and gut_datum(r('datum'), datum__roh, datum)
            and gut_zahl(r('teilnehmende'), teilnehmende__roh, teilnehmende)
            and gut_zahl(r('verwaltung'), verwaltung__roh, verwaltung)
            and gut_zahl(r('politik'), politik__roh, politik)
            and gut_zahl(r('zivilgesellschaft'), zivilgesellschaft__roh, zivilgesellschaft)
            and gut_zahl(r('wirtschaft'), wirtschaft__roh, wirtschaft)
            and gut_zahl(r('einwohnerschaft'), einwohnerschaft__roh, einwohnerschaft)
            as spalten_gut
    from typisiert as t
)
select
    zeile_gelesen,
    leer,
    spalten_gut and coalesce(sektoren <= teilnehmende, true) as gut,
    kommune_id__roh,
    -- the text as read is kept for failing rows only (their messages quote it)
    case when not gut then map {
        'veranstaltung_id': veranstaltung_id__roh, 'modul': modul__roh, 'format': format__roh,
        'thema': thema__roh, 'datum': datum__roh, 'teilnehmende': teilnehmende__roh,
        'verwaltung': verwaltung__roh, 'politik': politik__roh,
        'zivilgesellschaft': zivilgesellschaft__roh, 'wirtschaft': wirtschaft__roh,
        'einwohnerschaft': einwohnerschaft__roh} end as roh,
    sektoren,
    kommune_id, veranstaltung_id, modul, format, thema, datum, teilnehmende, verwaltung, politik,
    zivilgesellschaft, wirtschaft, einwohnerschaft
from geprueft;

reset disabled_optimizers;

-- `zeile`: the row as the spreadsheet shows it (the header is row 1); the in-memory reader
-- numbered its rows itself
create or replace temp view pruef_modulnutzung_zeilen as
select coalesce(zeile_gelesen, rowid + 2) as zeile, * exclude (zeile_gelesen)
from pruef_modulnutzung
where not leer;

create or replace temp table abgelehnt_modulnutzung as
with spalten as (
    -- column and row rules, for the failing rows only
    select
        p.zeile,
        unnest(flatten([
            regeln_typ(r('kommune_id'), p.kommune_id__roh, p.kommune_id),
            regeln_text(r('veranstaltung_id'), p.roh['veranstaltung_id']),
            regeln_wahl(r('modul'), p.roh['modul'], p.modul),
            regeln_wahl(r('format'), p.roh['format'], p.format),
            regeln_text(r('thema'), p.roh['thema']),
            regeln_datum(r('datum'), p.roh['datum'], p.datum),
            regeln_zahl(r('teilnehmende'), p.roh['teilnehmende'], p.teilnehmende),
            regeln_zahl(r('verwaltung'), p.roh['verwaltung'], p.verwaltung),
            regeln_zahl(r('politik'), p.roh['politik'], p.politik),
            regeln_zahl(r('zivilgesellschaft'), p.roh['zivilgesellschaft'], p.zivilgesellschaft),
            regeln_zahl(r('wirtschaft'), p.roh['wirtschaft'], p.wirtschaft),
            regeln_zahl(r('einwohnerschaft'), p.roh['einwohnerschaft'], p.einwohnerschaft),
            [case when p.sektoren > p.teilnehmende then fehler('teilnehmende',
                'Die Summe der Sektoren (' || p.sektoren || ') ist größer als „teilnehmende“ ('
                || gezeigt(p.roh['teilnehmende']) || '). Bitte korrigieren Sie die Gesamtzahl oder '
                || 'die Sektoren-Zahlen.') end]
        ])) as f,
        p.kommune_id__roh,
        p.roh
    from pruef_modulnutzung_zeilen as p
    where not p.gut
),
spalten_zeilen as (
    select zeile, f['spalte'] as spalte, f['meldung'] as meldung,
        case f['spalte'] when 'kommune_id' then kommune_id__roh
            else roh[f['spalte']] end as wert  -- struct field by name
    from spalten
    where f['spalte'] is not null
),
doppelt as (
    -- keys and references are judged among rows that passed the column rules, so a row with a
    -- typo does not make its corrected twin a duplicate
    select kommune_id, veranstaltung_id, min(zeile) as erste_zeile
    from pruef_modulnutzung_zeilen
    where gut
    group by kommune_id, veranstaltung_id
    having count(*) > 1
),
spaeter as (
    select p.zeile, 'veranstaltung_id' as spalte, p.veranstaltung_id as wert,
        'Doppelter Eintrag: dieselbe Kombination aus „kommune_id“ und „veranstaltung_id“ steht '
        || 'schon in Zeile ' || d.erste_zeile
        || '. Bitte die doppelte Zeile löschen oder zusammenführen.' as meldung
    from pruef_modulnutzung_zeilen as p
    join doppelt as d using (kommune_id, veranstaltung_id)
    where p.gut and p.zeile <> d.erste_zeile
    union all
    select p.zeile, 'kommune_id', p.kommune_id__roh,
        'Die Kommune „' || gezeigt(p.kommune_id__roh) || '“ steht nicht im Register '
        || '(kommunen) oder wurde dort abgelehnt. Bitte zuerst die Kommune im Register anlegen '
        || 'oder den Schlüssel korrigieren.'
    from pruef_modulnutzung_zeilen as p
    anti join pruef_kommunen as k using (kommune_id)
    where p.gut
)
-- `gute_zeile`: the row passed the column rules (it is rejected for a duplicate key or an unknown
-- commune); the other rejected rows are those without `gut`
select zeile, spalte, gezeigt(wert) as wert, meldung, gute_zeile
from (select *, false as gute_zeile from spalten_zeilen
      union all by name select *, true as gute_zeile from spaeter)
order by zeile, spalte;

-- The rows that passed every rule. Among them each (kommune_id, veranstaltung_id) occurs once
-- (`doppelt` rejects every row of a key but its first), so core/modulnutzung.sql needs no
-- duplicate guard of its own (tests/etl/test_build.py: test_duplicate_uptake_rows_are_rejected…).
create or replace temp view raw_modulnutzung as
select
    zeile as _zeile, kommune_id, veranstaltung_id, modul, format, thema, datum, teilnehmende,
    verwaltung, politik, zivilgesellschaft, wirtschaft, einwohnerschaft
from pruef_modulnutzung_zeilen as p
where gut
    and not exists (
        select 1 from abgelehnt_modulnutzung as a where a.gute_zeile and a.zeile = p.zeile);

-- rows read (fully empty lines are none) and rows loaded, counted without joining every row
create or replace temp table zahlen_modulnutzung as
select
    count(*) filter (where not leer) as gelesen,
    count(*) filter (where not leer and gut)
        - (select count(distinct zeile) from abgelehnt_modulnutzung where gute_zeile) as geladen
from pruef_modulnutzung;
