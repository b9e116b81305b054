-- Exchange between model communes (issue #14): offers and needs, contact requests with double
-- opt-in, practice cards with an optional file, exchange log.
--
-- Conventions for every migration of the app store (dashboard/store/db.py):
--   * portable SQL (SQLite and PostgreSQL): text ids made in Python, ISO-8601 text timestamps
--     (`*_am`), integer 0/1 flags, `check` constraints for enumerations;
--   * every column naming a commune ends in `kommune_id`: privacy erasure (`erase_kommune`)
--     deletes every row holding the commune's id in such a column; rows that belong to such a
--     row reference it with `on delete cascade`.

-- "Wir bieten" / "Wir suchen": one entry per commune, kind and Handlungsfeld.
create table angebot_gesuch (
    id              text primary key,
    kommune_id      text not null,
    art             text not null check (art in ('angebot', 'gesuch')),
    handlungsfeld   text not null,
    beschreibung    text not null,
    stichworte      text not null default '',   -- tags joined by '; '
    sichtbarkeit    text not null check (sichtbarkeit in ('programmteam', 'modellkommunen')),
    erstellt_am     text not null,
    geaendert_am    text not null,
    unique (kommune_id, art, handlungsfeld)
);
create index angebot_gesuch_feld on angebot_gesuch (handlungsfeld, art);

-- A contact request: `von` asks `an`; contacts are shown to both only once `an` accepted.
create table kontaktanfrage (
    id               text primary key,
    von_kommune_id   text not null,
    an_kommune_id    text not null,
    handlungsfeld    text not null,
    nachricht        text not null,
    zustand          text not null default 'offen'
                     check (zustand in ('offen', 'angenommen', 'abgelehnt', 'zurueckgezogen')),
    erstellt_am      text not null,
    beantwortet_am   text,
    check (von_kommune_id <> an_kommune_id)
);
create index kontaktanfrage_an on kontaktanfrage (an_kommune_id, zustand);
create index kontaktanfrage_von on kontaktanfrage (von_kommune_id, zustand);

-- "Gute Praxis": visible to all model communes; public only after the programme team's review.
create table praxis (
    id                     text primary key,
    kommune_id             text not null,
    handlungsfeld          text not null,
    titel                  text not null,
    was                    text not null,
    mit_wem                text not null default '',
    ergebnis               text not null default '',
    oeffentlich_gewuenscht integer not null default 0 check (oeffentlich_gewuenscht in (0, 1)),
    freigabe               text not null default 'keine'
                           check (freigabe in ('keine', 'freigegeben', 'abgelehnt')),
    freigabe_am            text,
    erstellt_am            text not null,
    geaendert_am           text not null
);
create index praxis_feld on praxis (handlungsfeld);

-- The optional file of a practice card, kept in the store so erasure and backups cover it.
create table praxis_datei (
    praxis_id   text primary key references praxis (id) on delete cascade,
    dateiname   text not null,
    mime        text not null,
    groesse     integer not null,
    inhalt      blob not null
);

-- After an accepted request: each side records whether the exchange happened and helped.
create table austausch (
    id              text primary key,
    anfrage_id      text not null references kontaktanfrage (id) on delete cascade,
    kommune_id      text not null,
    datum           text not null,
    format          text not null,
    geholfen        text not null check (geholfen in ('ja', 'teilweise', 'nein')),
    notiz           text not null default '',        -- visible to the programme team only
    erstellt_am     text not null,
    unique (anfrage_id, kommune_id)
);
