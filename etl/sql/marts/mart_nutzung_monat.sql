-- Mart: module uptake per commune, month, module, format and topic, joined to mart_kommune for
-- the shared filters; pages read this, never the core table itself.
-- A view, not a table: (kommune_id, veranstaltung_id) is unique, so a commune has hardly two rows
-- in one month, module, format and topic (781,465 groups from 1,000,000 rows nationally). Stored,
-- the grouping cost the build 0.4 s and bought the pages nothing: their own group-by over this
-- view takes as long as over the stored table (bench/results.md, "Uptake as a view").
create view mart_nutzung_monat as
select
    kommune_id,
    date_trunc('month', datum)::date as monat,
    modul,
    format,
    thema,
    -- one row is one commune's attendance of one event
    1::bigint as teilnahmen,
    teilnehmende,
    verwaltung,
    politik,
    zivilgesellschaft,
    wirtschaft,
    einwohnerschaft
from modulnutzung;
