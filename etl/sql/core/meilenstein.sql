-- Core: planned and reached milestones, one row per commune and milestone.
create table meilenstein (
    kommune_id varchar not null,
    meilenstein varchar not null,
    geplant_am date,
    erreicht_am date,
    notiz varchar
);

insert into meilenstein by name select * from stg_meilensteine;

-- Guards: the key is unique and every row refers to a known commune. Checked with
-- one aggregate instead of an index: validation already rejected violating rows, and building an
-- index for a million rows would cost several times the whole load.
select error('meilenstein: doppelter Schlüssel (kommune_id, meilenstein)')
from meilenstein
group by kommune_id, meilenstein
having count(*) > 1;

select error('meilenstein: unbekannte kommune_id ' || kommune_id)
from meilenstein
anti join kommune using (kommune_id);
