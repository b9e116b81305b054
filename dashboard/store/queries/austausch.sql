-- Named queries of the exchange area (dashboard/store/austausch.py). Placeholders: `:name`.

-- ---- offers and needs -------------------------------------------------------------------------

-- name: upsert_entry
insert into angebot_gesuch (id, kommune_id, art, handlungsfeld, beschreibung, stichworte,
                            sichtbarkeit, erstellt_am, geaendert_am)
values (:id, :kommune_id, :art, :handlungsfeld, :beschreibung, :stichworte, :sichtbarkeit,
        :jetzt, :jetzt)
on conflict (kommune_id, art, handlungsfeld) do update set
    beschreibung = excluded.beschreibung,
    stichworte = excluded.stichworte,
    sichtbarkeit = excluded.sichtbarkeit,
    geaendert_am = excluded.geaendert_am;

-- name: delete_entry
delete from angebot_gesuch where kommune_id = :kommune_id and art = :art
    and handlungsfeld = :handlungsfeld;

-- name: all_entries
select id, kommune_id, art, handlungsfeld, beschreibung, stichworte, sichtbarkeit, erstellt_am,
       geaendert_am
from angebot_gesuch order by kommune_id, art, handlungsfeld;

-- ---- contact requests -------------------------------------------------------------------------

-- name: open_request_between
select id from kontaktanfrage
where zustand in ('offen', 'angenommen')
  and ((von_kommune_id = :a and an_kommune_id = :b) or (von_kommune_id = :b and an_kommune_id = :a));

-- name: insert_request
insert into kontaktanfrage (id, von_kommune_id, an_kommune_id, handlungsfeld, nachricht, zustand,
                            erstellt_am)
values (:id, :von_kommune_id, :an_kommune_id, :handlungsfeld, :nachricht, 'offen', :jetzt);

-- name: request_by_id
select id, von_kommune_id, an_kommune_id, handlungsfeld, nachricht, zustand, erstellt_am,
       beantwortet_am
from kontaktanfrage where id = :id;

-- name: set_request_state
update kontaktanfrage set zustand = :zustand, beantwortet_am = :jetzt
where id = :id and zustand = 'offen';

-- name: all_requests
select id, von_kommune_id, an_kommune_id, handlungsfeld, nachricht, zustand, erstellt_am,
       beantwortet_am
from kontaktanfrage order by erstellt_am desc, id;

-- name: requests_of
select id, von_kommune_id, an_kommune_id, handlungsfeld, nachricht, zustand, erstellt_am,
       beantwortet_am
from kontaktanfrage where von_kommune_id = :kommune_id or an_kommune_id = :kommune_id
order by erstellt_am desc, id;

-- name: open_incoming_count
select count(*) as anzahl from kontaktanfrage
where an_kommune_id = :kommune_id and zustand = 'offen';

-- name: accepted_partners
select case when von_kommune_id = :kommune_id then an_kommune_id else von_kommune_id end
       as kommune_id
from kontaktanfrage
where zustand = 'angenommen' and (von_kommune_id = :kommune_id or an_kommune_id = :kommune_id);

-- ---- practice cards ---------------------------------------------------------------------------

-- name: upsert_practice
insert into praxis (id, kommune_id, handlungsfeld, titel, was, mit_wem, ergebnis,
                    oeffentlich_gewuenscht, freigabe, erstellt_am, geaendert_am)
values (:id, :kommune_id, :handlungsfeld, :titel, :was, :mit_wem, :ergebnis,
        :oeffentlich_gewuenscht, 'keine', :jetzt, :jetzt)
on conflict (id) do update set
    handlungsfeld = excluded.handlungsfeld, titel = excluded.titel, was = excluded.was,
    mit_wem = excluded.mit_wem, ergebnis = excluded.ergebnis,
    oeffentlich_gewuenscht = excluded.oeffentlich_gewuenscht,
    freigabe = 'keine', freigabe_am = null, geaendert_am = excluded.geaendert_am
where praxis.kommune_id = excluded.kommune_id;

-- name: practice_owner
select kommune_id from praxis where id = :id;

-- name: upsert_practice_file
insert into praxis_datei (praxis_id, dateiname, mime, groesse, inhalt)
values (:praxis_id, :dateiname, :mime, :groesse, :inhalt)
on conflict (praxis_id) do update set dateiname = excluded.dateiname, mime = excluded.mime,
    groesse = excluded.groesse, inhalt = excluded.inhalt;

-- name: delete_practice
delete from praxis where id = :id;

-- name: review_practice
update praxis set freigabe = :freigabe, freigabe_am = :jetzt
where id = :id and oeffentlich_gewuenscht = 1;

-- name: all_practices
select p.id, p.kommune_id, p.handlungsfeld, p.titel, p.was, p.mit_wem, p.ergebnis,
       p.oeffentlich_gewuenscht, p.freigabe, p.erstellt_am, p.geaendert_am,
       d.dateiname, d.mime, d.groesse
from praxis p left join praxis_datei d on d.praxis_id = p.id
order by p.erstellt_am desc, p.id;

-- name: practice_file
select d.dateiname, d.mime, d.inhalt, p.kommune_id, p.freigabe
from praxis_datei d join praxis p on p.id = d.praxis_id where d.praxis_id = :id;

-- ---- exchange log -----------------------------------------------------------------------------

-- name: upsert_exchange
insert into austausch (id, anfrage_id, kommune_id, datum, format, geholfen, notiz, erstellt_am)
values (:id, :anfrage_id, :kommune_id, :datum, :format, :geholfen, :notiz, :jetzt)
on conflict (anfrage_id, kommune_id) do update set
    datum = excluded.datum, format = excluded.format, geholfen = excluded.geholfen,
    notiz = excluded.notiz;

-- name: all_exchanges
select a.id, a.anfrage_id, a.kommune_id, a.datum, a.format, a.geholfen, a.notiz, a.erstellt_am,
       k.von_kommune_id, k.an_kommune_id, k.handlungsfeld
from austausch a join kontaktanfrage k on k.id = a.anfrage_id
order by a.datum desc, a.id;
