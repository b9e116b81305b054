-- Notes on a commune's timeline (issue #15): a date or a date range with a short text,
-- visible to the programme team only or to the commune and the team; never to the public
-- (dashboard/store/notizen.py).
create table zeitleisten_notiz (
    id             text primary key,
    kommune_id     text not null,
    von            text not null,                 -- ISO date
    bis            text not null,                 -- ISO date (= von for a single day)
    text           text not null,
    sichtbarkeit   text not null check (sichtbarkeit in ('programmteam', 'kommune')),
    autor          text not null,
    erstellt_am    text not null,
    check (bis >= von)
);
create index zeitleisten_notiz_kommune on zeitleisten_notiz (kommune_id, von);
