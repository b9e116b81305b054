-- Mart: one row per commune with everything pages filter and show: size class, start cohort,
-- current phase, next milestone, track duration against the 4–6-month target, overdue count.
-- Track start = Erstgespräch reached (else the planned start); end = Abschluss reached.
create table mart_kommune as
with stichtag as (
    select datenstand from meta_build
),
ziel as (
    select ziel_monate_min, ziel_monate_max from ref_programm
),
phasen as (
    select
        kommune_id,
        max(erreicht_am) filter (where meilenstein = 'Erstgespräch') as start_ist,
        max(erreicht_am) filter (where meilenstein = 'Abschluss') as ende_ist,
        max(geplant_am) filter (where meilenstein = 'Abschluss') as ende_geplant,
        max(geplant_am) filter (where meilenstein = 'Erstgespräch') as start_geplant_ms,
        arg_max(meilenstein, reihenfolge) filter (where erreicht_am is not null) as aktuelle_phase,
        max(reihenfolge) filter (where erreicht_am is not null) as phase_index,
        arg_min(meilenstein, reihenfolge) filter (where erreicht_am is null) as naechster_meilenstein,
        arg_min(geplant_am, reihenfolge) filter (where erreicht_am is null) as naechster_geplant_am,
        count(*) filter (where zustand = 'überfällig') as ueberfaellig_anzahl,
        max(tage_ueberfaellig) as max_tage_ueberfaellig,
        greatest(max(erreicht_am), max(geplant_am)) as letzte_aenderung
    from mart_fortschritt
    group by kommune_id
),
basis as (
    select
        k.*,
        coalesce(p.start_ist, p.start_geplant_ms, k.start_geplant) as start_datum,
        p.start_ist,
        p.ende_ist,
        p.ende_geplant,
        coalesce(p.aktuelle_phase, 'noch nicht begonnen') as aktuelle_phase,
        coalesce(p.phase_index, 0) as phase_index,
        case when k.status in ('abgeschlossen', 'ausgeschieden') then null
             else p.naechster_meilenstein end as naechster_meilenstein,
        case when k.status in ('abgeschlossen', 'ausgeschieden') then null
             else p.naechster_geplant_am end as naechster_geplant_am,
        coalesce(p.ueberfaellig_anzahl, 0) as ueberfaellig_anzahl,
        p.max_tage_ueberfaellig,
        s.datenstand
    from kommune as k
    left join phasen as p using (kommune_id)
    cross join stichtag as s
)
select
    b.* exclude (datenstand),
    g.groessenklasse,
    g.reihenfolge as groessenklasse_reihenfolge,
    strftime(b.start_datum, '%Y') || '-Q' || quarter(b.start_datum) as start_quartal,
    -- duration in months (30.44 days); running tracks count until the data date
    case
        when b.start_ist is null then null
        when b.ende_ist is not null then round(date_diff('day', b.start_ist, b.ende_ist) / 30.44, 1)
        when b.status = 'ausgeschieden' then null
        else round(date_diff('day', b.start_ist, b.datenstand) / 30.44, 1)
    end as dauer_monate,
    b.ende_ist is not null as beendet,
    case
        when b.ende_ist is null then null
        else date_diff('day', b.start_ist, b.ende_ist) / 30.44 <= z.ziel_monate_max
    end as im_ziel,
    -- a running track that is past the upper target is late even without a planned date passed
    (b.status in ('aufgenommen', 'aktiv') and (
        b.ueberfaellig_anzahl > 0
        or (b.start_ist is not null and b.ende_ist is null
            and date_diff('day', b.start_ist, b.datenstand) / 30.44 > z.ziel_monate_max)
    )) as verspaetet
from basis as b
cross join ziel as z
left join ref_groessenklasse as g
    on b.einwohner >= g.von and (g.bis is null or b.einwohner < g.bis);
