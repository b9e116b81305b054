-- Mart: one row per event (shared events have several communes) with its number of communes and
-- participants. The communes' ids and names of an event are not stored here: at national scale
-- they are lists of a million entries that cost the build a third of a second and their
-- checkpoint; `data.shared_events_sql` builds the names for the shared events a page shows (a
-- commune's own, or a selection's for staff).
create table mart_veranstaltung as
select
    veranstaltung_id,
    min(datum) as datum,
    any_value(modul) as modul,
    any_value(format) as format,
    any_value(thema) as thema,
    count(*) as kommunen_anzahl,
    sum(teilnehmende) as teilnehmende
from modulnutzung
group by veranstaltung_id;
