"""AppTest of the monitoring pages on the demo data: real values against independent SQL."""

from __future__ import annotations

import pytest

from dashboard.app import pages_for
from dashboard.data import Viewer
from dashboard.i18n import translate
from tests.dashboard.pagetest import frames, metrics, open_tables, run_page


def _overdue_sql(sql, where: str = "true") -> int:
    return sql(
        "select count(*) from meilenstein m join kommune k using (kommune_id), meta_build b "
        "where m.erreicht_am is null and m.geplant_am < b.datenstand "
        f"and k.status <> 'ausgeschieden' and {where}"
    )[0][0]


def test_overview_figures_equal_independent_sql(use_db, demo_db, sql):
    at = run_page(use_db, demo_db)
    m = metrics(at)
    assert m["Kommunen"] == str(sql("select count(*) from kommune")[0][0])
    assert m["Überfällige Meilensteine"] == str(_overdue_sql(sql))
    assert m["davon abgeschlossen"] == str(
        sql(
            "select count(*) from meilenstein where meilenstein = 'Abschluss' "
            "and erreicht_am is not null"
        )[0][0]
    )


def test_filters_change_values_and_stay_across_pages(use_db, demo_db, sql):
    land = sql("select bundesland from kommune group by 1 order by count(*) desc limit 1")[0][0]
    at = run_page(use_db, demo_db, bundesland=land)
    expected = sql("select count(*) from kommune where bundesland = ?", land)[0][0]
    assert metrics(at)["Kommunen"] == str(expected)
    assert metrics(at)["Überfällige Meilensteine"] == str(
        _overdue_sql(sql, f"k.bundesland = '{land}'")
    )
    open_tables(at.switch_page("../pages/karte.py").run())
    assert at.query_params["bundesland"] in (land, [land])
    points = frames(at)[0]
    assert len(points) == expected


def test_reset_clears_filters(use_db, demo_db, sql):
    at = run_page(use_db, demo_db, status="aktiv")
    assert metrics(at)["Kommunen"] == str(
        sql("select count(*) from kommune where status = 'aktiv'")[0][0]
    )
    at.button(key="filters_reset").click().run()
    assert metrics(at)["Kommunen"] == str(sql("select count(*) from kommune")[0][0])
    assert "status" not in at.query_params


@pytest.mark.parametrize("page", ["ueberblick", "karte", "fortschritt", "module"])
def test_empty_filter_result_shows_empty_state(use_db, demo_db, page):
    at = run_page(use_db, demo_db, page=page, bundesland="Bremen", typ="Gemeinde")
    assert any("Keine Kommunen für diese Filter" in w.value for w in at.warning)


def test_map_table_has_every_commune_with_coordinates(use_db, demo_db, sql):
    at = open_tables(run_page(use_db, demo_db, page="karte"))
    points = frames(at)[0]
    assert sorted(points["AGS"]) == [r[0] for r in sql("select kommune_id from kommune order by 1")]
    # decimals are shown as German text (53,86950): Streamlit's formats have no decimal comma
    lat = points["lat"].str.replace(".", "").str.replace(",", ".").astype(float)
    assert lat.between(47.2, 55.1).all()
    assert points["lat"].str.fullmatch(r"\d\d,\d+").all()
    open_tables(at.radio(key="map_view").set_value("laender").run())
    laender = frames(at)[0]
    assert laender["Kommunen"].sum() == len(points)


def test_progress_lists_overdue_and_pages_lanes(use_db, demo_db, sql):
    at = open_tables(run_page(use_db, demo_db, page="fortschritt"))
    n = sql(
        "select count(*) from kommune k where exists "
        "(select 1 from meilenstein m where m.kommune_id = k.kommune_id)"
    )[0][0]
    assert any(f"Kommunen 1–{min(n, 40)} von {n}" in c.value for c in at.caption)
    tables = frames(at)
    overdue = tables[-1]
    assert len(overdue) == _overdue_sql(sql)
    assert (overdue["Tage überfällig"] > 0).all()
    funnel = tables[1]
    reached = dict(sql("select meilenstein, count(erreicht_am) from meilenstein group by 1"))
    for milestone, count in zip(funnel["Meilenstein"], funnel["erreicht"], strict=True):
        assert count == reached.get(milestone, 0)


def test_progress_sorted_by_name_not_by_selbstcheck(use_db, demo_db):
    at = run_page(use_db, demo_db, page="fortschritt")
    open_tables(at.radio(key="progress_sort").set_value("name").run())
    timeline = frames(at)[0]
    names = list(dict.fromkeys(timeline["Kommune"]))
    assert names == sorted(names)


def test_modules_sector_totals_equal_sql(use_db, demo_db, sql):
    at = open_tables(run_page(use_db, demo_db, page="module"))
    tables = frames(at)
    sectors = next(t for t in tables if "Sektor" in t.columns)
    got = dict(zip(sectors["Sektor"], sectors["Teilnehmende"], strict=True))
    assert got["Verwaltung"] == sql("select sum(verwaltung) from modulnutzung")[0][0]
    assert got["Einwohnerschaft"] == sql("select sum(einwohnerschaft) from modulnutzung")[0][0]
    assert sum(got.values()) == sql("select sum(teilnehmende) from modulnutzung")[0][0]
    shared = tables[-1]
    assert (
        len(shared)
        == sql(
            "select count(*) from (select veranstaltung_id from modulnutzung "
            "group by 1 having count(*) > 1)"
        )[0][0]
    )


def test_profile_opens_from_url_and_shows_selbstcheck_to_staff(use_db, demo_db, sql):
    kommune_id, name = sql(
        "select kommune_id, name from kommune k where exists (select 1 from "
        "selbstcheck s where s.kommune_id = k.kommune_id) order by 1 limit 1"
    )[0]
    at = open_tables(run_page(use_db, demo_db, page="kommune", kommune=kommune_id))
    assert at.header[0].value == name
    sc = next(t for t in frames(at) if "Handlungsfeld" in t.columns)
    assert len(sc) == 7
    assert list(sc["Stand (1–4)"]) == [
        r[0]
        for r in sql(
            "select stand from selbstcheck join ref_handlungsfeld using (handlungsfeld) "
            "where kommune_id = ? order by nummer",
            kommune_id,
        )
    ]


def test_profile_hides_selbstcheck_and_contact_from_another_commune(use_db, demo_db, sql):
    own, other = [
        r[0]
        for r in sql(
            "select kommune_id from kommune k where exists (select 1 from selbstcheck s where "
            "s.kommune_id = k.kommune_id) and not vernetzung_zustimmung order by 1 limit 2"
        )
    ]
    at = open_tables(run_page(use_db, demo_db, page="kommune", viewer=Viewer("kommune", own),
                              kommune=other))
    assert not any("Handlungsfeld" in t.columns for t in frames(at))
    assert any("nur das Programmteam" in i.value for i in at.info)
    email = sql("select email from kommune where kommune_id = ?", other)[0][0]
    assert email not in str([t.value for t in at.text])


def test_unknown_commune_in_url_gives_german_hint(use_db, demo_db):
    at = run_page(use_db, demo_db, page="kommune", kommune="99999999")
    assert any("gibt es in den aktuellen Daten nicht" in w.value for w in at.warning)


def test_english_pages(use_db, demo_db):
    at = run_page(use_db, demo_db, page="fortschritt", lang="en")
    assert at.title[0].value == "Progress"


def test_profile_selection_is_not_reset_to_the_url(use_db, demo_db, sql):
    first, second = [r[0] for r in sql("select kommune_id from kommune order by 1 limit 2")]
    at = run_page(use_db, demo_db, page="kommune", kommune=first)
    at.selectbox(key="profile_kommune").set_value(second).run()
    at.run()  # a further rerun (any widget) must keep the new choice
    assert at.selectbox(key="profile_kommune").value == second
    assert at.query_params["kommune"] in (second, [second])


@pytest.mark.parametrize("page", pages_for("staff"))
def test_every_page_in_english(use_db, demo_db, page):
    """Every page a role can open has its English title (so the page really opened: the
    default page would show another title) and no German one."""
    at = run_page(use_db, demo_db, page=page, lang="en")
    key = f"{page}.title"  # each page's strings are in the i18n section named after it
    assert at.title[0].value == translate("en", key) != translate("de", key)


def test_every_profile_renders_for_staff_and_for_the_commune_itself(use_db, demo_db, sql):
    """Communes in every state, including those that never started (no start date)."""
    from dashboard.data import Viewer

    for (kommune_id,) in sql("select kommune_id from kommune order by 1"):
        open_tables(run_page(use_db, demo_db, page="kommune", kommune=kommune_id))
        own = open_tables(run_page(use_db, demo_db, viewer=Viewer("kommune", kommune_id)))
        assert own.selectbox(key="profile_kommune").value == kommune_id
