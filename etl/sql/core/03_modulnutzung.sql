-- Core: module uptake, one row per commune and event (an event can serve several communes).
create table modulnutzung (
    kommune_id varchar not null references kommune (kommune_id),
    veranstaltung_id varchar not null,
    modul tinyint not null check (modul between 1 and 3),
    format varchar not null,
    thema varchar not null,
    datum date not null,
    teilnehmende integer not null check (teilnehmende >= 0),
    verwaltung integer check (verwaltung >= 0),
    politik integer check (politik >= 0),
    zivilgesellschaft integer check (zivilgesellschaft >= 0),
    wirtschaft integer check (wirtschaft >= 0),
    einwohnerschaft integer check (einwohnerschaft >= 0),
    primary key (kommune_id, veranstaltung_id)
);

insert into modulnutzung by name select * from stg_modulnutzung;
