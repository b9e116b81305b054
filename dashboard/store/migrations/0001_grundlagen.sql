-- Generic pieces of the app store (dashboard/store/db.py), used by every area.
-- (`schema_version` itself is created by the migration runner before this file runs.)

-- A change counter per area ("austausch", later "handlungsplan", …): every write bumps its
-- area's number in the same transaction, so readers can cache derived data (the peer features)
-- and notice a change with one cheap look-up, also across app processes.
create table revision (
    bereich   text primary key,
    nummer    integer not null
);
