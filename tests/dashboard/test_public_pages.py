"""Every page a public visitor can open, read as an attacker (issue #10).

The public (and a commune) reads one audited edition: the whole programme at the data date.
Filters apply to staff only, because two editions of different selections could be subtracted
("all" minus "all Länder but Hamburg" is the Hamburg commune's figures), which no audit of a
single edition sees. The test reads what the page sends to the browser – metrics, table cells,
the Plotly figure JSON (bar values and labels, categories, map hover data) – and checks:

- with any filters (single values, worst cases, and combinations of several values) a public
  page shows exactly what it shows without filters, says that the filters do not apply there,
  and keeps them chosen; the public edition of any selection is the same, cell for cell;
- every number shown is a published cell of the public report (one number everywhere: the
  audited edition of `dashboard/report/protection.py`), never one resting on 1 or 2 communes;
  "x" exactly where the report hides a cell; a chart shows what its table shows;
- a chart or table whose cells are all hidden lists no categories (which formats a few communes
  used);
- no hidden cell can be recomputed from the published cells (the report relations re-solved with
  `protection.intervals`);
- the public map shows no programme state: what it shows does not depend on status or start
  filters, and its Land counts are the counts of its own points (hidden below 3).

Pages × filters is large, so hypothesis samples filters (fixed number of examples) on top of a
few fixed worst cases (a Land with one commune, a status with no admitted commune).
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import app, data, fmt
from dashboard.report import definitions as rd
from dashboard.report import protection as pr
from tests.dashboard.pagetest import assert_ok, frames, metrics, open_tables, run_page

FILTER_KEYS = ("bundesland", "typ", "groessenklasse", "status", "start_quartal")
SAMPLES = settings(max_examples=6, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_the_public_pages_are_those_tested():
    """A page added for the public must be added to this test."""
    assert app.pages_for("public") == ["ueberblick", "karte", "module", "anmelden"]


# ---- oracle: the report of a selection, staff (truth) and public (published) -----------------


def _reports():
    day = data.build_info().datenstand
    staff = data.load_report(data.STAFF, rd.PROGRAMMSTART, day, day)
    public = data.load_report(data.PUBLIC, rd.PROGRAMMSTART, day, day)
    return staff, public


def _truth(staff) -> dict[str, pl.DataFrame]:
    """The public edition's frames before masking (rows of admitted communes only)."""
    return {k: t.table.public_frame(t.frame) for k, t in staff.tables.items()}


def _row(frame: pl.DataFrame, **match: object) -> int:
    rows = frame.with_row_index("_i").filter(
        pl.all_horizontal(pl.col(k) == v for k, v in match.items()))
    assert rows.height == 1, (match, rows)
    return rows["_i"][0]


def _check_cell(staff, public, key: str, i: int, column: str, shown: str, where: str) -> None:
    """A shown text is the published cell (or "x" exactly where the report hides it), and a
    number is never a figure resting on 1 or 2 communes."""
    truth = _truth(staff)
    hidden = bool(public[key].is_hidden(column)[i])
    if hidden:
        assert shown == rd.SMALL_CELL_TEXT, (where, key, i, column, shown)
        return
    assert (key, i, column) not in pr.primary_cells({key: truth[key]}), (where, key, i, column)
    value = truth[key][column][i]
    decimals = 0 if isinstance(value, int) else 1
    expected = "–" if value is None else fmt.number(value, decimals)
    assert shown == expected, (where, key, i, column, shown, expected)


# ---- reading a page as the browser gets it ----------------------------------------------------


def _main_text(at) -> str:
    """Everything the page's main area shows (not the sidebar with the filter pills)."""
    parts = []
    for element in at.main:
        parts.append(_element_text(element))
    return "\n".join(parts)


def _element_text(element) -> str:
    proto = getattr(element, "proto", None)
    value = getattr(element, "value", None)
    if element.type == "plotly_chart":
        return element.proto.spec
    if value is not None and not callable(value):
        return f"{element.type}:{getattr(element, 'label', '')}:{value}"
    children = getattr(element, "children", None)
    if children:
        return "\n".join(_element_text(c) for c in children.values())
    return f"{element.type}:{proto!s:.0}"


def _charts(at) -> list[list[dict]]:
    return [json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart")]


def _bars(trace: dict) -> dict[str, str]:
    """category → label of a bar trace (horizontal or vertical); the label is the text Plotly
    writes at the bar ("x" for a hidden value) or, without text, the value."""
    horizontal = trace.get("orientation") == "h"
    categories = trace.get("y" if horizontal else "x") or []
    values = trace.get("x" if horizontal else "y") or []
    texts = trace.get("text") or [None] * len(categories)
    out = {}
    for category, value, text in zip(categories, values, texts, strict=True):
        if text == rd.SMALL_CELL_TEXT:
            assert value in (0, None), (category, value)  # no bar length for a hidden value
            out[str(category)] = text
        else:
            assert text is None or float(text) == float(value or 0), (category, text, value)
            out[str(category)] = fmt.number(value or 0)
    return out


# ---- every public page, every single-value filter --------------------------------------------


def _filter_values(use_db, demo_db) -> list[tuple[str, str]]:
    use_db(demo_db)
    options = data.filter_options()
    return [(field, value) for field in FILTER_KEYS for value in options[field]]


@pytest.fixture(scope="module")
def worst_cases(demo_db) -> list[tuple[str, str]]:
    """A Land with exactly one commune, one with two, a status without admitted communes, the
    smallest start quarter."""
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        one = con.execute("select bundesland from kommune group by 1 having count(*) = 1 "
                          "order by 1 limit 1").fetchone()[0]
        two = con.execute("select bundesland from kommune group by 1 having count(*) = 2 "
                          "order by 1 limit 1").fetchone()[0]
        quarter = con.execute("select start_quartal from mart_kommune where start_quartal "
                              "is not null group by 1 order by count(*), 1 limit 1").fetchone()[0]
    finally:
        con.close()
    return [("bundesland", one), ("bundesland", two), ("status", "interessiert"),
            ("status", "ausgeschieden"), ("start_quartal", quarter)]


def _overview(at, staff, public, where: str) -> None:
    """Überblick: key figures, status table and chart, module table and chart."""
    truth = _truth(staff)
    status_rows = truth["kommunen_status"]
    shown = metrics(at)
    for label, text in shown.items():
        if label == "Kommunen":
            i = _row(status_rows, status="Insgesamt")
            _check_cell(staff, public, "kommunen_status", i, "kommunen", text, where)
            continue
        key = next(f.key for f in rd.FIGURES if f.label("de") == label)
        head = truth["ueberblick"]
        i = _row(head, kennzahl=key)
        column = "anzahl" if head["anzahl"][i] is not None or \
            public["ueberblick"].is_hidden("anzahl")[i] else "wert"
        _check_cell(staff, public, "ueberblick", i, column, text, f"{where} {label}")
    status_table, module_table = frames(at)
    for status, text in zip(status_table["Status"], status_table["Kommunen"], strict=True):
        i = _row(status_rows, status=status)
        _check_cell(staff, public, "kommunen_status", i, "kommunen", text, where)
    events = truth["veranstaltungen"]
    for record in module_table.to_dict("records"):
        i = _row(events, quartal="Zeitraum", merkmal="Modul", auspraegung=record["Ausprägung"])
        for column, label in (("veranstaltungen", "Veranstaltungen"),
                              ("teilnehmende", "Teilnehmende")):
            _check_cell(staff, public, "veranstaltungen", i, column, record[label], where)
    status_chart, module_chart = _charts(at)
    assert _bars(status_chart[0]) == dict(zip(status_table["Status"], status_table["Kommunen"],
                                              strict=True))
    for trace, label in zip(module_chart, ("Veranstaltungen", "Teilnehmende"), strict=True):
        assert list(_bars(trace).values()) == list(module_table[label])


def _modules(at, staff, public, where: str) -> None:
    """Module: by module, by format, by sector – tables, and charts equal to their tables."""
    truth = _truth(staff)
    events = truth["veranstaltungen"]
    names = {f"{m} {n}": f"{m} {n}" for m, n in data.programme_rules().module.items()}
    measure = at.radio(key="modules_measure").value
    label = {"teilnahmen": "Teilnahmen von Kommunen", "teilnehmende": "Teilnehmende"}[measure]
    tables = frames(at)
    charts = _charts(at)
    assert len(tables) == len(charts)
    for table, chart in zip(tables, charts, strict=True):
        first = table.columns[0]
        if first in ("Modul", "Format"):
            merkmal = first
            for record in table.to_dict("records"):
                category = record[first]
                i = _row(events, quartal="Zeitraum", merkmal=merkmal,
                         auspraegung=names.get(category, category))
                for column, head in (("teilnahmen", "Teilnahmen von Kommunen"),
                                     ("teilnehmende", "Teilnehmende")):
                    _check_cell(staff, public, "veranstaltungen", i, column, record[head],
                                f"{where} {merkmal}")
            assert _bars(chart[0]) == dict(zip(table[first], table[label], strict=True))
        else:
            assert first == "Sektor", table.columns
            i = _row(events, quartal="Zeitraum", merkmal="Insgesamt")
            sectors = {"Verwaltung": "verwaltung", "Politik": "politik",
                       "Zivilgesellschaft": "zivilgesellschaft", "Wirtschaft": "wirtschaft",
                       "Einwohnerschaft": "einwohnerschaft", "ohne Angabe": "ohne_sektor"}
            for sector, text in zip(table["Sektor"], table["Teilnehmende"], strict=True):
                _check_cell(staff, public, "veranstaltungen", i, sectors[sector], text, where)
            assert _bars(chart[0]) == dict(zip(table["Sektor"], table["Teilnehmende"],
                                               strict=True))
        # a table whose every cell is hidden is not drawn at all (it would list categories)
        numbers = table.drop(columns=[first]).astype(str)
        assert not (numbers == rd.SMALL_CELL_TEXT).all(axis=None), (where, first)


def _audit_holds(public, staff) -> None:
    """No hidden cell of the published tables is single-valued given the published cells and the
    report relations (outsider; the attackers are audited by protection.protect itself)."""
    assert public.protection is not None and public.protection.audit_passed
    truth = _truth(staff)
    hidden = {(key, i, c) for key, table in public.tables.items() if table.hidden is not None
              for c in table.hidden.columns for i in range(table.frame.height)
              if table.hidden[c][i]}
    rels = pr.relations(truth)
    for group in pr.components(rels, hidden):
        for cell, interval in pr.intervals(truth, rels, group).items():
            assert not pr.single_valued(interval), (cell, interval)


PAGE_VIEWS = (("ueberblick", None), ("module", "teilnahmen"), ("module", "teilnehmende"))


def _choose_measure(at, view: str | None):
    radios = [r for r in at.radio if r.key == "modules_measure"]
    if view and radios and radios[0].value != view:
        radios[0].set_value(view).run()
        assert_ok(at)
    return at


WHOLE_PROGRAMME = "gelten immer für das ganze Programm"  # the note on a filtered public page


def _without_note(at) -> str:
    """The main text without the note (the Überblick shows it in the otherwise empty slot
    above its figures)."""
    return "\n".join(line for line in _main_text(at).splitlines()
                     if WHOLE_PROGRAMME not in line and line != "flex_container:")


def _check_page(use_db, demo_db, page: str, view: str | None, **params: str | list[str]) -> None:
    """A public page with filters shows exactly the page without them (the one audited edition
    of the whole programme) and says that the filters do not apply; the filters stay chosen."""
    at = open_tables(_choose_measure(run_page(
        use_db, demo_db, page=None if page == "ueberblick" else page, viewer=None, **params),
        view))
    where = f"{page}/{view} {params}"
    assert any(WHOLE_PROGRAMME in i.value for i in at.info), where
    for field, value in params.items():
        chosen = at.button_group(key=f"flt_{field}").value
        assert chosen == ([value] if isinstance(value, str) else value), where
    unfiltered = open_tables(_choose_measure(run_page(
        use_db, demo_db, page=None if page == "ueberblick" else page, viewer=None), view))
    assert not any(WHOLE_PROGRAMME in i.value for i in unfiltered.info)
    assert _without_note(at) == _without_note(unfiltered), where


@pytest.mark.parametrize("page,view", PAGE_VIEWS)
@pytest.mark.parametrize("case", range(5))
def test_public_page_worst_cases(use_db, demo_db, worst_cases, page, view, case):
    field, value = worst_cases[case]
    _check_page(use_db, demo_db, page, view, **{field: value})


@pytest.mark.parametrize("page,view", PAGE_VIEWS)
@SAMPLES
@given(picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=6))
def test_public_page_any_filters(use_db, demo_db, page, view, picks):
    """Any combination of filter values, several per filter (the attacker's selections)."""
    values = _filter_values(use_db, demo_db)
    chosen: dict[str, list[str]] = {}
    for pick in picks:
        field, value = values[pick % len(values)]
        if value not in chosen.setdefault(field, []):
            chosen[field].append(value)
    _check_page(use_db, demo_db, page, view, **chosen)


@pytest.mark.parametrize("page", ["ueberblick", "module"])
def test_small_selection_looks_like_an_empty_one(use_db, demo_db, worst_cases, page):
    """A Land with one commune and each status: the page must not tell "this commune has the
    status" (1 commune, hidden) from "it has not" (0 communes)."""
    land = worst_cases[0][1]
    seen = {}
    use_db(demo_db)
    for status in data.filter_options()["status"]:
        at = open_tables(run_page(use_db, demo_db, page=None if page == "ueberblick" else page,
                                  viewer=None, bundesland=land, status=status))
        seen[status] = _main_text(at)
    assert len(set(seen.values())) == 1, {s: t[:300] for s, t in seen.items()}


def test_unfiltered_public_pages_hold(use_db, demo_db):
    """No filter: the full cohort, every view (the case most visitors see)."""
    use_db(demo_db)
    staff, public = _reports()
    _audit_holds(public, staff)
    for page, view in PAGE_VIEWS:
        at = run_page(use_db, demo_db, page=None if page == "ueberblick" else page, viewer=None)
        open_tables(_choose_measure(at, view))
        (_overview if page == "ueberblick" else _modules)(at, staff, public, f"{page}/{view}")


def test_a_commune_gets_the_public_edition_of_module_uptake(use_db, demo_db, sql):
    """A commune knows its own uptake: unprotected totals of its Land would give away the
    others' by subtraction. It sees the public edition (the same cells as the public) and its
    own rows; the unprotected aggregates are staff-only in the data layer."""
    own, land = sql("select k.kommune_id, k.bundesland from kommune k join (select bundesland "
                    "from kommune group by 1 having count(*) = 2) l using (bundesland) "
                    "where exists (select 1 from modulnutzung m where m.kommune_id = "
                    "k.kommune_id) order by 1 limit 1")[0]
    me = data.Viewer("kommune", own)
    for viewer in (me, data.PUBLIC):
        with pytest.raises(PermissionError):
            data.uptake_by(viewer, data.NO_FILTERS, "monat", "modul")
    public = [t.to_dict() for t in frames(open_tables(
        run_page(use_db, demo_db, page="module", viewer=None)))]
    for params in ({}, {"bundesland": land}):  # its Land has two communes
        at = open_tables(run_page(use_db, demo_db, page="module", viewer=me, **params))
        assert any(WHOLE_PROGRAMME in i.value for i in at.info) == bool(params)
        tables = frames(at)
        # the public edition of the whole programme, whatever the filter, then its own rows
        assert [t.to_dict() for t in tables[:3]] == public, params
        assert set(tables[3]["AGS"]) == {own}, params


# ---- the public map ---------------------------------------------------------------------------


def _map_views(use_db, demo_db, **params):
    points = open_tables(run_page(use_db, demo_db, page="karte", viewer=None, **params))
    laender = run_page(use_db, demo_db, page="karte", viewer=None, **params)
    laender.radio(key="map_view").set_value("laender").run()
    return points, open_tables(laender)


def _map_content(points, laender) -> tuple[str, str]:
    drop = ("gelten auf der öffentlichen Karte nicht",)  # the note that state filters are ignored
    texts = []
    for at in (points, laender):
        texts.append("\n".join(line for line in _main_text(at).splitlines()
                               if not any(d in line for d in drop)))
    return texts[0], texts[1]


def test_public_map_does_not_depend_on_programme_state(use_db, demo_db, worst_cases):
    """Whatever the status or start quarter filter, the public map (points, table, Land counts)
    is exactly the unfiltered one: it cannot be used to list who has which status. Every status;
    the smallest and the largest start quarter."""
    base = _map_content(*_map_views(use_db, demo_db))
    quarters = data.filter_options()["start_quartal"]
    cases = [("status", s) for s in data.filter_options()["status"]] + [
        worst_cases[4], ("start_quartal", quarters[-1])]
    for field, value in cases:
        assert _map_content(*_map_views(use_db, demo_db, **{field: value})) == base, value


def _check_map(use_db, demo_db, field: str, value: str) -> None:
    """Land counts are the counts of the map's own points (the list of admitted communes is
    public), shown from 3 on, "x" below; no programme-state word anywhere on the map."""
    points, laender = _map_views(use_db, demo_db, **{field: value})
    if not frames(points):
        return
    per_land = frames(points)[0].groupby("Bundesland").size().to_dict()
    if not frames(laender):  # every Land hidden: no map, no table, the note instead
        assert max(per_land.values()) < 3 and not _charts(laender), (field, value)
        assert any("beruhen auf weniger als drei" in c.value for c in laender.caption)
        return
    counts = frames(laender)[0]
    for land, n in zip(counts["Bundesland"], counts["Kommunen"], strict=True):
        assert n == (rd.SMALL_CELL_TEXT if per_land[land] < 3 else str(per_land[land])), \
            (field, value, land)
    trace = _charts(laender)[0][0]
    for land, z in zip(trace["locations"], trace["z"], strict=True):
        assert z is None or z >= 3, (field, value, land, z)
    spec = json.dumps(_charts(points)[0])
    for word in ("aktiv", "abgeschlossen", "ausgeschieden", "aufgenommen", "Erstgespräch",
                 "Workshop", "überfällig"):
        assert word not in spec, (field, value, word)


def test_public_map_worst_case(use_db, demo_db, worst_cases):
    _check_map(use_db, demo_db, *worst_cases[0])


@SAMPLES
@given(pick=st.integers(0, 10_000))
def test_public_map_any_register_filter(use_db, demo_db, pick):
    values = [(f, v) for f, v in _filter_values(use_db, demo_db)
              if f in data.PUBLIC_MAP_FILTERS]
    _check_map(use_db, demo_db, *values[pick % len(values)])


# ---- group disclosure ("N of N") ---------------------------------------------------------------


def test_no_row_tells_that_all_its_communes_share_a_status(use_db, demo_db):
    """Hamburg (one commune, listed with its Land on the public map) together with
    Baden-Württemberg once showed "abgeschlossen 4, Insgesamt 4" and zeros elsewhere, so the
    public learnt that the Hamburg commune has finished, although no published value rested on
    fewer than 3 communes. The public edition (whole programme): no status count equals the
    total, and no Merkmal row shows all its communes in one status."""
    use_db(demo_db)
    day = data.build_info().datenstand
    public = data.load_report(data.PUBLIC, rd.PROGRAMMSTART, day, day)
    frame = public["kommunen_status"].frame
    shown = {s: n for s, n in zip(frame["status"], frame["kommunen"], strict=True)
             if n is not None}
    total = shown.pop("Insgesamt", None)
    assert total and total not in shown.values(), (shown, total)
    for row in public["kommunen_merkmale"].frame.iter_rows(named=True):
        t = row["teilnehmend"]
        if t:
            assert t not in (row["aktiv"], row["abgeschlossen"]), row
            assert (row["aktiv"], row["abgeschlossen"]) != (0, 0), row


# ---- subtraction across selections -------------------------------------------------------------


def _cells(report) -> dict[tuple, object]:
    """Every published cell of an edition ("x" where hidden), by table, row and column."""
    out = {}
    for key, table in report.tables.items():
        for i in range(table.frame.height):
            for column in table.frame.columns:
                hidden = table.hidden is not None and column in table.hidden.columns \
                    and bool(table.hidden[column][i])
                out[(key, i, column)] = rd.SMALL_CELL_TEXT if hidden else table.frame[column][i]
    return out


def test_a_public_reader_cannot_subtract_two_selections(use_db, demo_db, sql):
    """The attack: the whole programme minus "every Land but Hamburg" is the one Hamburg
    commune's figures (its participants per format and sector, whether it finished within the
    target), though each of the two editions passed its audit on its own. Every Land with 1 or
    2 communes: the staff editions differ (so there is something to find), the public editions
    of "all", "all but it" and "it and one other Land" are the same, cell for cell."""
    use_db(demo_db)
    day = data.build_info().datenstand
    lands = [r[0] for r in sql("select distinct bundesland from kommune order by 1")]
    small = [r[0] for r in sql("select bundesland from kommune group by 1 "
                               "having count(*) <= 2 order by 1")]
    assert small and len(lands) > 3
    everyone = _cells(data.load_report(data.PUBLIC, rd.PROGRAMMSTART, day, day))
    for viewer in (data.PUBLIC, data.Viewer("kommune", sql(
            "select min(kommune_id) from kommune")[0][0])):
        for one in small:
            others = tuple(land for land in lands if land != one)
            staff = [_cells(data.load_report(data.STAFF, rd.PROGRAMMSTART, day, day, f))
                     for f in (data.NO_FILTERS, data.Filters(bundesland=others))]
            assert staff[0] != staff[1], one
            for selection in (others, (one, others[0])):
                edition = data.load_report(viewer, rd.PROGRAMMSTART, day, day,
                                           data.Filters(bundesland=selection))
                assert _cells(edition) == everyone, (viewer.role, selection)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=8))
def test_every_public_selection_is_the_same_edition(use_db, demo_db, picks):
    """Whatever filters a reader combines, the public edition does not move: nothing to
    subtract."""
    values = _filter_values(use_db, demo_db)
    chosen: dict[str, tuple[str, ...]] = {}
    for pick in picks:
        field, value = values[pick % len(values)]
        chosen[field] = tuple(dict.fromkeys((*chosen.get(field, ()), value)))
    day = data.build_info().datenstand
    assert _cells(data.load_report(data.PUBLIC, rd.PROGRAMMSTART, day, day,
                                   data.Filters(**chosen))) == \
        _cells(data.load_report(data.PUBLIC, rd.PROGRAMMSTART, day, day))
