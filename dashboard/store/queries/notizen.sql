-- Named queries of the timeline notes (dashboard/store/notizen.py).

-- name: insert_note
insert into zeitleisten_notiz (id, kommune_id, von, bis, text, sichtbarkeit, autor, erstellt_am)
values (:id, :kommune_id, :von, :bis, :text, :sichtbarkeit, :autor, :jetzt);

-- name: note_owner
select kommune_id, sichtbarkeit from zeitleisten_notiz where id = :id;

-- name: delete_note
delete from zeitleisten_notiz where id = :id;

-- name: notes_of
select id, kommune_id, von, bis, text, sichtbarkeit, autor, erstellt_am
from zeitleisten_notiz
where kommune_id = :kommune_id and (sichtbarkeit = 'kommune' or :mit_intern = 1)
order by von, bis, id;

-- name: notes_in_period
select id, kommune_id, von, bis, text, sichtbarkeit, autor, erstellt_am
from zeitleisten_notiz
where von <= :bis and bis >= :von and (sichtbarkeit = 'kommune' or :mit_intern = 1)
order by von, kommune_id, id;
