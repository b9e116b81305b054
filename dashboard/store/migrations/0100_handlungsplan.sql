-- Handlungsplan (issue #15): the measures a commune derived from its Selbstcheck workshop, per
-- Handlungsfeld. Visible to the commune itself and the programme team only
-- (dashboard/store/handlungsplan.py). Conventions as in 0002_austausch.sql.
create table massnahme (
    id                 text primary key,
    kommune_id         text not null,
    handlungsfeld      text not null,
    titel              text not null,
    zustaendig         text not null default '',    -- responsible unit
    partner            text not null default '',
    beginn             text,                        -- ISO date
    faellig            text,                        -- ISO date
    zustand            text not null default 'geplant'
                       check (zustand in ('geplant', 'begonnen', 'umgesetzt', 'verworfen')),
    veranstaltungen    text not null default '',    -- module/dialogue event ids used, '; '
    erstellt_am        text not null,
    geaendert_am       text not null
);
create index massnahme_kommune on massnahme (kommune_id, handlungsfeld);
