-- Checks, warnings (art "Hinweis": the row is kept and loaded). A register status must be proved
-- by a milestone reached by the Datenstand; the report macros count a commune with the status its
-- dates prove (etl/sql/marts/kz_kommune.sql, same proofs as here):
--   abgeschlossen  Abschluss
--   aktiv          Erstgespräch, or a later Selbstcheck step (Fragebogen, Auswertung, Workshop)
--   aufgenommen    Aufnahme
--   beworben       Bewerbung or Ratsbeschluss
-- `interessiert` needs no proof; `ausgeschieden` is dated by ausgeschieden_am or an estimate.
-- Reads `hinweis_kommunen` and `hinweis_meilensteine` (validated rows, `_zeile` = spreadsheet
-- row) and the variable `datenstand`; creates `hinweis_status` (zeile, spalte, wert, meldung).
create or replace temp table hinweis_status as
with noetig as (
    select
        _zeile as zeile,
        kommune_id,
        status,
        case status
            when 'abgeschlossen' then ['Abschluss']
            when 'aktiv' then ['Erstgespräch', 'Fragebogen', 'Auswertung', 'Workshop']
            when 'aufgenommen' then ['Aufnahme']
            when 'beworben' then ['Bewerbung', 'Ratsbeschluss']
        end as belege
    from hinweis_kommunen
)
select
    n.zeile,
    'status' as spalte,
    n.status as wert,
    'Der Status „' || n.status || '“ ist durch kein Datum belegt: in „meilensteine“ fehlt für '
    || 'diese Kommune ein erreichtes Datum (erreicht_am) für '
    || case n.status
        when 'aktiv' then '„Erstgespräch“ (oder einen späteren Schritt: Fragebogen, Auswertung '
            || 'oder Workshop)'
        else array_to_string(list_transform(n.belege, lambda m: '„' || m || '“'), ' oder ')
    end
    || ' bis zum Datenstand ' || strftime(getvariable('datenstand'), '%d.%m.%Y') || '. Bitte '
    || 'tragen Sie dort das Datum ein, an dem der Meilenstein erreicht wurde, oder korrigieren '
    || 'Sie den Status. Bis dahin zählt die Kommune in den Berichten mit dem Status, den ihre '
    || 'erreichten Meilensteine belegen.' as meldung
from noetig as n
where n.belege is not null
    and not exists (
        select 1
        from hinweis_meilensteine as m
        where m.kommune_id = n.kommune_id
            and list_contains(n.belege, m.meilenstein)
            and m.erreicht_am <= getvariable('datenstand')
    )
order by n.zeile;
