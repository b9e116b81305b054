-- Mart: features for peer suggestions, one row per commune. Selbstcheck levels are here for the
-- engine only; pages must never show another commune's levels (the data layer drops them).
create table mart_peer_merkmale as
with sc as (
    select
        s.kommune_id,
        list(s.handlungsfeld order by h.nummer) filter (where s.prioritaet) as prioritaeten,
        list(struct_pack(handlungsfeld := s.handlungsfeld, stand := s.stand) order by h.nummer)
            as staende
    from selbstcheck as s
    join ref_handlungsfeld as h using (handlungsfeld)
    group by s.kommune_id
)
select
    k.kommune_id,
    k.name,
    k.typ,
    k.bundesland,
    k.einwohner,
    k.lat,
    k.lon,
    k.status,
    k.vernetzung_zustimmung,
    k.phase_index,
    k.naechster_meilenstein,
    coalesce(sc.prioritaeten, []) as prioritaeten,
    coalesce(sc.staende, []) as staende
from mart_kommune as k
left join sc using (kommune_id);
