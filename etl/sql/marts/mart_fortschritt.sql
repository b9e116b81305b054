-- Mart: progress per commune and milestone, judged against the data date (meta_build.datenstand).
-- A planned milestone whose date has passed without being reached is "überfällig", unless the
-- commune has left the programme ("entfallen").
create table mart_fortschritt as
with stichtag as (
    select datenstand from meta_build
),
joined as (
    select
        m.kommune_id,
        m.meilenstein,
        r.reihenfolge,
        m.geplant_am,
        m.erreicht_am,
        k.status as kommune_status,
        s.datenstand
    from meilenstein as m
    join ref_meilenstein as r using (meilenstein)
    join kommune as k using (kommune_id)
    cross join stichtag as s
)
select
    kommune_id,
    meilenstein,
    reihenfolge,
    geplant_am,
    erreicht_am,
    case
        when erreicht_am is not null and (geplant_am is null or erreicht_am <= geplant_am)
            then 'erreicht'
        when erreicht_am is not null then 'verspätet erreicht'
        when kommune_status = 'ausgeschieden' then 'entfallen'
        when geplant_am < datenstand then 'überfällig'
        else 'geplant'
    end as zustand,
    case
        when erreicht_am is null and kommune_status <> 'ausgeschieden' and geplant_am < datenstand
            then date_diff('day', geplant_am, datenstand)
    end as tage_ueberfaellig,
    case
        when erreicht_am is not null and geplant_am is not null
            then date_diff('day', geplant_am, erreicht_am)
    end as tage_abweichung
from joined;
