-- Core: planned and reached milestones, one row per commune and milestone.
create table meilenstein (
    kommune_id varchar not null references kommune (kommune_id),
    meilenstein varchar not null,
    geplant_am date,
    erreicht_am date,
    notiz varchar,
    primary key (kommune_id, meilenstein)
);

insert into meilenstein by name select * from stg_meilensteine;
