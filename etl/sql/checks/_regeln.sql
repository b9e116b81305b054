-- Checks layer, shared part: parsers and rule macros for the per-file rule files in this folder.
-- Input of a rule file is `pruef_roh`: the file's columns as text (exactly as read, plus `_zeile`,
-- the row number as the spreadsheet shows it; null for a CSV file DuckDB reads from disk, whose
-- rows the rule file numbers by its check table's rowid: so that table's query must keep the
-- file's order, i.e. contain no join, see modulnutzung.sql). The rules and their German messages
-- are the ones of etl/validate.py (which still checks the files not moved here); `ref_spalte`
-- holds each column's rules from etl/schema.py, so limits and allowed values have one source.

-- trimmed text, null when empty (what the rules see). Whitespace as Unicode defines it; a cell
-- that starts and ends with a visible ASCII character needs no trimming (the usual case, fast)
create or replace temp macro leerzeichen() as
    ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(133) || chr(160)
    || chr(5760) || chr(8192) || chr(8193) || chr(8194) || chr(8195) || chr(8196) || chr(8197)
    || chr(8198) || chr(8199) || chr(8200) || chr(8201) || chr(8202) || chr(8232) || chr(8233)
    || chr(8239) || chr(8287) || chr(12288);
create or replace temp macro roh(t) as case
    when ord(t) between 33 and 126 and ord(t[-1]) between 33 and 126 then t
    else nullif(trim(t, leerzeichen()), '')
end;

-- `roh(t)`, known beforehand to be `t` where `sauber` (the cell is in canonical form already)
create or replace temp macro roh_wenn(sauber, t) as case when sauber then t else roh(t) end;

-- the rules of one column of the file being checked (the rule file sets the variable `regel`)
create or replace temp macro r(spalte) as getvariable('regel')[spalte];

-- the value as shown in a message or the report: at most 80 characters
create or replace temp macro gezeigt(t) as left(t, 80);

-- ---- parsers: trimmed text in, typed value out (null where unparseable) ----------------------

-- AGS/ARS as text; a leading zero that Excel dropped is restored (7 → 8 digits, 4 → 5, 11 → 12)
create or replace temp macro ags_ziffern(s) as
    case when length(s) in (4, 7, 11) then '0' || s else s end;
create or replace temp macro parse_ags(t) as case
    when regexp_full_match(t, '[0-9]{8}') then t  -- the usual case, fast
    when regexp_full_match(ags_ziffern(regexp_replace(t, '\s', '', 'g')), '[0-9]{5}|[0-9]{8}|[0-9]{12}')
    then ags_ziffern(regexp_replace(t, '\s', '', 'g'))
end;

-- whole numbers; German thousands separators (40.696, 40 696) and Excel's 12,0 are accepted
create or replace temp macro ganzzahl_text(t) as case
    when not regexp_matches(t, '[., ]') then t
    when regexp_full_match(replace(t, ' ', ''), '-?[0-9]{1,3}(\.[0-9]{3})+')
        then replace(replace(t, ' ', ''), '.', '')
    else regexp_replace(replace(t, ' ', ''), '^(-?[0-9]+)[.,]0+$', '\1')
end;
create or replace temp macro parse_int(t) as case
    when try_cast(t as bigint)::varchar = t then try_cast(t as bigint)  -- plain digits, fast
    when regexp_full_match(ganzzahl_text(t), '[+-]?[0-9]+') then try_cast(ganzzahl_text(t) as bigint)
end;

-- `parse_int(t)`, with its value known beforehand where `sauber` (plain digits: `zahl`)
create or replace temp macro zahl_wenn(sauber, zahl, t) as
    case when sauber then zahl else parse_int(t) end;

-- decimal numbers with decimal comma (52,5) or point (52.5)
create or replace temp macro dezimal_punkt(s) as
    case when contains(s, ',') then regexp_replace(replace(s, '.', ''), ',', '.') else s end;
create or replace temp macro parse_decimal(t) as case
    when regexp_full_match(dezimal_punkt(regexp_replace(t, '\s', '', 'g')), '-?[0-9]+(\.[0-9]+)?')
    then dezimal_punkt(regexp_replace(t, '\s', '', 'g'))::double
end;

-- dates as dd.mm.yyyy, ISO yyyy-mm-dd or an Excel date cell (a time of day after it is ignored)
create or replace temp macro parse_date(t) as coalesce(
    try_strptime(split_part(t, ' ', 1), '%d.%m.%Y'),
    try_strptime(split_part(t, ' ', 1), '%Y-%m-%d'))::date;

-- yes/no as ja/nein, x, wahr/falsch, true/false or 1/0
create or replace temp macro parse_bool(t) as case
    when lower(t) in ('ja', 'j', 'x', 'wahr', 'true', '1', 'yes', 'y') then true
    when lower(t) in ('nein', 'n', 'falsch', 'false', '0', 'no') then false
end;

-- canonical spelling of an allowed value; case and a leading number ("5. …") are ignored
create or replace temp macro parse_enum(t, erlaubt) as case
    when list_contains(erlaubt, t) then t  -- spelled as allowed: the usual case, fast
    else erlaubt[list_position(
    list_transform(erlaubt, lambda a: lower(a)),
    regexp_replace(lower(t), '^(modul\s*)?[0-9]+[.)]?\s+(\D)', '\2'))]
end;

-- at most r.max_zeichen characters (the byte count, known without reading the text, settles
-- nearly every cell)
create or replace temp macro laenge_gut(r, t) as
    t is null or strlen(t) <= r.max_zeichen or length(t) <= r.max_zeichen;

-- ---- rule messages: null when the rule holds, else {spalte, meldung} -----------------------

create or replace temp macro fehler(spalte, meldung) as {'spalte': spalte, 'meldung': meldung};

create or replace temp macro regel_laenge(r, t) as case when not laenge_gut(r, t) then fehler(
    r.spalte, 'Der Eintrag in „' || r.spalte || '“ ist zu lang (' || length(t)
    || ' Zeichen; erlaubt sind höchstens ' || r.max_zeichen || '). Bitte kürzen Sie ihn.') end;

create or replace temp macro regel_pflicht(r, t) as case when r.pflicht and t is null then fehler(
    r.spalte, 'Pflichtfeld „' || r.spalte || '“ ist leer. Bitte tragen Sie einen Wert ein.') end;

create or replace temp macro regel_typ(r, t, wert) as case when t is not null and wert is null then
    fehler(r.spalte, '„' || gezeigt(t) || '“ in „' || r.spalte || '“ ' || r.typ_hinweis || '.') end;

create or replace temp macro regel_erlaubt(r, t, wert) as
    case when t is not null and wert is null then fehler(r.spalte,
        '„' || gezeigt(t) || '“ ist kein erlaubter Wert für „' || r.spalte || '“. Erlaubt sind: '
        || array_to_string(r.erlaubt, ', ') || '.') end;

create or replace temp macro regel_min(r, t, wert) as case when wert < r.minimum then fehler(
    r.spalte, '„' || gezeigt(t) || '“ in „' || r.spalte || '“ ist zu klein: der Wert muss '
    || 'mindestens ' || r.minimum_text || ' sein.') end;

create or replace temp macro regel_max(r, t, wert) as case when wert > r.maximum then fehler(
    r.spalte, '„' || gezeigt(t) || '“ in „' || r.spalte || '“ ist zu groß: der Wert darf '
    || 'höchstens ' || r.maximum_text || ' sein.') end;

create or replace temp macro regel_zeitraum(r, t, wert) as
    case when wert < r.datum_min or wert > r.datum_max then fehler(r.spalte,
        'Das Datum „' || gezeigt(t) || '“ in „' || r.spalte || '“ liegt außerhalb des '
        || 'Programmzeitraums (' || strftime(r.datum_min, '%d.%m.%Y') || ' bis '
        || strftime(r.datum_max, '%d.%m.%Y') || '). Bitte prüfen Sie das Jahr.') end;

-- all rules of one column by its type (the failing ones; an empty list when the cell is fine)
create or replace temp macro regeln_text(r, t) as
    list_filter([regel_laenge(r, t), regel_pflicht(r, t)], lambda f: f is not null);
create or replace temp macro regeln_typ(r, t, wert) as list_filter(
    [regel_laenge(r, t), regel_pflicht(r, t), regel_typ(r, t, wert)], lambda f: f is not null);
create or replace temp macro regeln_wahl(r, t, wert) as list_filter(
    [regel_laenge(r, t), regel_pflicht(r, t), regel_erlaubt(r, t, wert)], lambda f: f is not null);
create or replace temp macro regeln_zahl(r, t, wert) as list_filter(
    [regel_laenge(r, t), regel_pflicht(r, t), regel_typ(r, t, wert), regel_min(r, t, wert),
     regel_max(r, t, wert)], lambda f: f is not null);
create or replace temp macro regeln_datum(r, t, wert) as list_filter(
    [regel_laenge(r, t), regel_pflicht(r, t), regel_typ(r, t, wert),
     regel_zeitraum(r, t, wert)], lambda f: f is not null);

-- the same rules as one cheap yes/no for every row (the messages are built for failing rows only)
create or replace temp macro gut_text(r, t) as
    laenge_gut(r, t) and not (r.pflicht and t is null);
create or replace temp macro gut_typ(r, t, wert) as
    gut_text(r, t) and not (t is not null and wert is null);
create or replace temp macro gut_zahl(r, t, wert) as gut_typ(r, t, wert)
    and coalesce(wert >= r.minimum, true) and coalesce(wert <= r.maximum, true);
create or replace temp macro gut_datum(r, t, wert) as gut_typ(r, t, wert)
    and coalesce(wert between r.datum_min and r.datum_max, true);
