-- Named queries of the deadline watch and delivery (dashboard/store/watch.py).

-- name: settings
select schluessel, wert from watch_einstellung;

-- name: set_setting
insert into watch_einstellung (schluessel, wert, geaendert_am) values (:schluessel, :wert, :jetzt)
on conflict (schluessel) do update set wert = excluded.wert, geaendert_am = excluded.geaendert_am;

-- name: mark_reported
insert into watch_gemeldet (schluessel, kommune_id, art, digest_id, gemeldet_am)
values (:schluessel, :kommune_id, :art, :digest_id, :jetzt)
on conflict (schluessel) do nothing;

-- name: reported_keys
select schluessel from watch_gemeldet;

-- name: insert_digest
insert into watch_digest (id, erstellt_am, datenstand, anzahl, kopf, versand)
values (:id, :jetzt, :datenstand, :anzahl, :kopf, :versand);

-- name: insert_digest_line
insert into watch_digest_zeile (digest_id, position, kommune_id, zeile)
values (:digest_id, :position, :kommune_id, :zeile);

-- name: digests
select id, erstellt_am, datenstand, anzahl, kopf, versand
from watch_digest order by erstellt_am desc, id limit :limit;

-- name: digest_lines
select digest_id, position, kommune_id, zeile from watch_digest_zeile
where digest_id in (select id from watch_digest order by erstellt_am desc, id limit :limit)
order by digest_id, position;

-- name: calendar_link_of
select erstellt_am from kalender_link where kommune_id = :kommune_id;

-- name: calendar_link_by_hash
select kommune_id, token_hash from kalender_link where token_hash = :token_hash;

-- name: set_calendar_link
insert into kalender_link (kommune_id, token_hash, erstellt_am)
values (:kommune_id, :token_hash, :jetzt)
on conflict (kommune_id) do update set token_hash = excluded.token_hash,
    erstellt_am = excluded.erstellt_am;

-- name: delete_calendar_link
delete from kalender_link where kommune_id = :kommune_id;

-- name: upsert_delivery
insert into versand (id, name, empfaenger, ausgabe, stichtag_regel, formate, aktiv, erstellt_am)
values (:id, :name, :empfaenger, :ausgabe, :stichtag_regel, :formate, :aktiv, :jetzt)
on conflict (id) do update set name = excluded.name, empfaenger = excluded.empfaenger,
    ausgabe = excluded.ausgabe, stichtag_regel = excluded.stichtag_regel,
    formate = excluded.formate, aktiv = excluded.aktiv;

-- name: delete_delivery
delete from versand where id = :id;

-- name: deliveries
select id, name, empfaenger, ausgabe, stichtag_regel, formate, aktiv, erstellt_am, letzter_hash,
       letzter_versand_am
from versand order by name, id;

-- name: delivery_sent
update versand set letzter_hash = :hash, letzter_versand_am = :jetzt where id = :id;

-- name: log_delivery
insert into versand_protokoll (id, versand_id, gesendet_am, stichtag, hash, ziel, test)
values (:id, :versand_id, :jetzt, :stichtag, :hash, :ziel, :test);

-- name: delivery_log
select p.id, p.versand_id, v.name, p.gesendet_am, p.stichtag, p.hash, p.ziel, p.test
from versand_protokoll p join versand v on v.id = p.versand_id
order by p.gesendet_am desc, p.id limit :limit;

-- name: delivery_by_id
select id from versand where id = :id;
