-- Core: Selbstcheck results (never a ranking: staff and the commune itself only).
create table selbstcheck (
    kommune_id varchar not null,
    handlungsfeld varchar not null,
    stand tinyint not null check (stand between 1 and 4),
    prioritaet boolean not null,
    erhoben_am date not null
);

insert into selbstcheck by name select * from stg_selbstcheck;

-- Guards: the key is unique and every row refers to a known commune. Checked with
-- one aggregate instead of an index: validation already rejected violating rows, and building an
-- index for a million rows would cost several times the whole load.
select error('selbstcheck: doppelter Schlüssel (kommune_id, handlungsfeld)')
from selbstcheck
group by kommune_id, handlungsfeld
having count(*) > 1;

select error('selbstcheck: unbekannte kommune_id ' || kommune_id)
from selbstcheck
anti join kommune using (kommune_id);
