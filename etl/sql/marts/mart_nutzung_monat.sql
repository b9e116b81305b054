-- Mart: module uptake pre-aggregated per commune, month, module, format and topic, so pages never
-- read the raw uptake table; joined to mart_kommune for the shared filters.
create table mart_nutzung_monat as
select
    kommune_id,
    date_trunc('month', datum)::date as monat,
    modul,
    format,
    thema,
    count(*) as teilnahmen,
    -- (kommune_id, veranstaltung_id) is unique, so within one commune every row is one event
    count(*) as veranstaltungen,
    sum(teilnehmende) as teilnehmende,
    sum(verwaltung) as verwaltung,
    sum(politik) as politik,
    sum(zivilgesellschaft) as zivilgesellschaft,
    sum(wirtschaft) as wirtschaft,
    sum(einwohnerschaft) as einwohnerschaft
from modulnutzung
group by all;
