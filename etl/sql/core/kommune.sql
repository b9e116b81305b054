-- Core: the commune registry with its key enforced.
create table kommune (
    -- ids
    kommune_id varchar not null,
    -- strings
    name varchar not null,
    typ varchar not null,
    bundesland varchar not null,
    kreis varchar,
    status varchar not null,
    -- numerics
    einwohner integer not null check (einwohner > 0),
    lat double not null,
    lon double not null,
    -- dates
    start_geplant date,
    ausgeschieden_am date,
    -- contact person (personal data)
    ansprechperson varchar,
    email varchar,
    telefon varchar,
    -- flags
    vernetzung_zustimmung boolean not null,
    voraussetzung_ansprechperson boolean,
    voraussetzung_leitung boolean,
    voraussetzung_prozesse boolean,
    voraussetzung_wissensteilung boolean,
    -- free text (staff only)
    notiz varchar
);

insert into kommune by name select * from stg_kommunen;

-- Guards: the key is unique. Checked with
-- one aggregate instead of an index: validation already rejected violating rows, and building an
-- index for a million rows would cost several times the whole load.
select error('kommune: doppelter Schlüssel (kommune_id)')
from kommune
group by kommune_id
having count(*) > 1;
