-- Core: module uptake, one row per commune and event (an event can serve several communes).
create table modulnutzung (
    kommune_id varchar not null,
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
    einwohnerschaft integer check (einwohnerschaft >= 0)
);

insert into modulnutzung by name select * from stg_modulnutzung;

-- Guard: every row refers to a known commune. The key (kommune_id, veranstaltung_id) is unique
-- by construction: etl/sql/checks/modulnutzung.sql rejects every row of a key but its first (a
-- second aggregate over a million rows here cost 0.2–0.3 s; tests/etl/test_build.py proves the
-- duplicates are rejected). No index: building one for a million rows would cost several times
-- the whole load.
select error('modulnutzung: unbekannte kommune_id ' || kommune_id)
from modulnutzung
anti join kommune using (kommune_id);

-- The checked rows are in the table now: free the check table's memory (a national file's rows)
-- for the marts, so they do not spill to disk under the build's memory cap.
drop view if exists stg_modulnutzung;
drop view if exists raw_modulnutzung;
drop view if exists pruef_modulnutzung_zeilen;
drop table if exists pruef_modulnutzung;
drop table if exists zahlen_modulnutzung;
