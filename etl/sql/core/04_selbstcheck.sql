-- Core: Selbstcheck results (never a ranking: staff and the commune itself only).
create table selbstcheck (
    kommune_id varchar not null references kommune (kommune_id),
    handlungsfeld varchar not null,
    stand tinyint not null check (stand between 1 and 4),
    prioritaet boolean not null,
    erhoben_am date not null,
    primary key (kommune_id, handlungsfeld)
);

insert into selbstcheck by name select * from stg_selbstcheck;
