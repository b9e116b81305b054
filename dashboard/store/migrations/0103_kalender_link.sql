-- Private calendar links (issue #15), served by dashboard/server.py at /kalender/<token>.ics.
-- Only the SHA-256 of a link's token is kept: the store (a backup, a copy) does not hold a
-- working link. The earlier table kept the token itself (for files on static serving); those
-- links end here, the commune makes a new one on its profile.
drop table kalender_token;
create table kalender_link (
    kommune_id    text primary key,
    token_hash    text not null unique,          -- hex SHA-256 of the token
    erstellt_am   text not null
);
