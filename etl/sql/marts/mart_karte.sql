-- Mart: map points; no personal data, so any role may read it.
create view mart_karte as
select
    kommune_id,
    name,
    typ,
    bundesland,
    kreis,
    einwohner,
    groessenklasse,
    lat,
    lon,
    status,
    aktuelle_phase,
    phase_index,
    naechster_meilenstein,
    naechster_geplant_am,
    start_quartal,
    verspaetet
from mart_kommune;
