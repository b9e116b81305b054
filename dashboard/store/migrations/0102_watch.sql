-- Deadline watch and delivery (issue #15; dashboard/store/watch.py, dashboard/watch/).

-- Thresholds of the watch, set by the programme team (missing key = default in watch.py).
create table watch_einstellung (
    schluessel    text primary key,
    wert          text not null,
    geaendert_am  text not null
);

-- Every watch item once reported in a digest: a second run reports only new keys.
create table watch_gemeldet (
    schluessel    text primary key,               -- e.g. 'ueberfaellig|01003000|Workshop'
    kommune_id    text not null,
    art           text not null,
    digest_id     text not null,
    gemeldet_am   text not null
);
create table watch_digest (
    id            text primary key,
    erstellt_am   text not null,
    datenstand    text not null,
    anzahl        integer not null,
    kopf          text not null,                  -- heading and rule (names no commune)
    versand       text not null default ''        -- recipients or '' (in-app only)
);
-- The digest's lines, one per item, so erasing a commune removes its lines too.
create table watch_digest_zeile (
    digest_id     text not null references watch_digest (id) on delete cascade,
    position      integer not null,
    kommune_id    text not null,
    zeile         text not null,
    primary key (digest_id, position)
);

-- The private calendar link of a commune: an unguessable token naming its .ics file.
create table kalender_token (
    kommune_id    text primary key,
    token         text not null unique,
    erstellt_am   text not null
);

-- Scheduled report delivery: recipients, edition, Stichtag rule, formats.
create table versand (
    id              text primary key,
    name            text not null,
    empfaenger      text not null,                 -- e-mail addresses, '; '
    ausgabe         text not null check (ausgabe in ('oeffentlich', 'intern')),
    stichtag_regel  text not null check (stichtag_regel in ('quartalsende', 'monatsende',
                                                            'jahresende', 'datenstand')),
    formate         text not null,                 -- 'xlsx; pdf; csv'
    aktiv           integer not null default 1 check (aktiv in (0, 1)),
    erstellt_am     text not null,
    letzter_hash    text not null default '',
    letzter_versand_am text
);
create table versand_protokoll (
    id            text primary key,
    versand_id    text not null references versand (id) on delete cascade,
    gesendet_am   text not null,
    stichtag      text not null,
    hash          text not null,
    ziel          text not null,                   -- 'smtp' or the outbox folder
    test          integer not null default 0 check (test in (0, 1))
);
