-- Named queries of the Handlungsplan (dashboard/store/handlungsplan.py).

-- name: upsert_measure
insert into massnahme (id, kommune_id, handlungsfeld, titel, zustaendig, partner, beginn, faellig,
                       zustand, veranstaltungen, erstellt_am, geaendert_am)
values (:id, :kommune_id, :handlungsfeld, :titel, :zustaendig, :partner, :beginn, :faellig,
        :zustand, :veranstaltungen, :jetzt, :jetzt)
on conflict (id) do update set
    handlungsfeld = excluded.handlungsfeld, titel = excluded.titel,
    zustaendig = excluded.zustaendig, partner = excluded.partner, beginn = excluded.beginn,
    faellig = excluded.faellig, zustand = excluded.zustand,
    veranstaltungen = excluded.veranstaltungen, geaendert_am = excluded.geaendert_am
where massnahme.kommune_id = excluded.kommune_id;

-- name: measure_owner
select kommune_id from massnahme where id = :id;

-- name: delete_measure
delete from massnahme where id = :id;

-- name: measures_of
select id, kommune_id, handlungsfeld, titel, zustaendig, partner, beginn, faellig, zustand,
       veranstaltungen, erstellt_am, geaendert_am
from massnahme where kommune_id = :kommune_id
order by handlungsfeld, coalesce(faellig, '9999'), titel, id;

-- name: all_measures
select id, kommune_id, handlungsfeld, titel, zustaendig, partner, beginn, faellig, zustand,
       veranstaltungen, erstellt_am, geaendert_am
from massnahme order by kommune_id, handlungsfeld, coalesce(faellig, '9999'), titel, id;

-- name: cohort_field_counts
select handlungsfeld, count(distinct kommune_id) as kommunen,
       sum(case when zustand = 'umgesetzt' then 1 else 0 end) as umgesetzt
from massnahme group by handlungsfeld;

-- name: measure_by_id
select id, kommune_id, handlungsfeld, titel, zustaendig, partner, zustand
from massnahme where id = :id;
