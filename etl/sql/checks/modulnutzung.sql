-- Checks: modulnutzung.csv/.xlsx, read into `pruef_roh` (every column as text, `_zeile` = the
-- spreadsheet row, null when DuckDB read the file itself: then the row's position gives it).
-- Creates `pruef_modulnutzung` (typed rows with `gut` = every column and row rule holds),
-- `abgelehnt_modulnutzung` (one line per failed rule: zeile, spalte, wert, meldung) and the view
-- `raw_modulnutzung` of the rows that passed every rule, which staging reads.
-- Known communes (for the reference rule) come from `pruef_kommunen`.

-- this file's column rules as a constant (`r('spalte')`), folded into every expression once
set variable regel = (
    select map(list(spalte), list(regel)) from ref_spalte_regel where datei = 'modulnutzung'
);

create or replace temp table pruef_modulnutzung as
with eingang as (
    select
        _zeile as zeile_gelesen,
        -- fully empty lines (Excel leaves some at the end) are not rows
        coalesce(kommune_id, veranstaltung_id, modul, format, thema, datum, teilnehmende,
                 verwaltung, politik, zivilgesellschaft, wirtschaft, einwohnerschaft) is null
            as leer,
        roh(kommune_id) as kommune_id__roh,
        roh(veranstaltung_id) as veranstaltung_id__roh,
        roh(modul) as modul__roh,
        roh(format) as format__roh,
        roh(thema) as thema__roh,
        roh(datum) as datum__roh,
        roh(teilnehmende) as teilnehmende__roh,
        roh(verwaltung) as verwaltung__roh,
        roh(politik) as politik__roh,
        roh(zivilgesellschaft) as zivilgesellschaft__roh,
        roh(wirtschaft) as wirtschaft__roh,
        roh(einwohnerschaft) as einwohnerschaft__roh
    from pruef_roh
),
typisiert as (
    select
        e.*,
        parse_ags(kommune_id__roh) as kommune_id,
        veranstaltung_id__roh as veranstaltung_id,
        parse_enum(modul__roh, r('modul').erlaubt) as modul,
        parse_enum(format__roh, r('format').erlaubt) as format,
        thema__roh as thema,
        parse_date(datum__roh) as datum,
        parse_int(teilnehmende__roh) as teilnehmende,
        parse_int(verwaltung__roh) as verwaltung,
        parse_int(politik__roh) as politik,
        parse_int(zivilgesellschaft__roh) as zivilgesellschaft,
        parse_int(wirtschaft__roh) as wirtschaft,
        parse_int(einwohnerschaft__roh) as einwohnerschaft
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
select zeile, spalte, gezeigt(wert) as wert, meldung
from (select * from spalten_zeilen union all by name select * from spaeter)
order by zeile, spalte;

create or replace temp view raw_modulnutzung as
select
    zeile as _zeile, kommune_id, veranstaltung_id, modul, format, thema, datum, teilnehmende,
    verwaltung, politik, zivilgesellschaft, wirtschaft, einwohnerschaft
from pruef_modulnutzung_zeilen as p
where gut
    and not exists (select 1 from abgelehnt_modulnutzung as a where a.zeile = p.zeile);
