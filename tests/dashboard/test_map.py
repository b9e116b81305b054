"""The Karte page: the lean map figure shows exactly the data layer's points, and the public map
shows no commune's programme state (DESIGN.md, role `public`).

Values are read back from the chart spec Streamlit sends to the browser (typed arrays decoded as
the browser would) and compared with independent SQL on the built database.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from xml.etree import ElementTree

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plotly.colors import get_colorscale, sample_colorscale
from starlette.requests import Request

from dashboard import data, fmt, maps, server
from etl.build import build
from etl.schema import MEILENSTEINE as MEILENSTEIN_NAMES
from tests.cohort import KOMMUNEN, MEILENSTEINE, write_cohort
from tests.dashboard.pagetest import assert_ok, frames, open_tables, run_page

SVG = "{http://www.w3.org/2000/svg}"
ADMITTED = ("aufgenommen", "aktiv", "abgeschlossen")
HOSTILE = "Hannover ![x](http://evil/x.png)"
# communes the public must never see: interested, applying, and a dropout that never started
SECRET = {"03241001": HOSTILE, "03403000": "Oldenburg <b>Bewerbung</b>",
          "03101000": "Braunschweig Rückzug", "05913000": "=SUM(1) Dortmund"}
_TAIL = "nein;ja;ja;ja;ja;"  # consent, four prerequisites, no note
EXTRA_KOMMUNEN = "".join(f"{row};;;;{_TAIL}\n" for row in (
    f"03241001;{HOSTILE};Stadt;Niedersachsen;Region Hannover;545.045;52,37;9,73;interessiert;",
    "03403000;Oldenburg <b>Bewerbung</b>;kreisfreie Stadt;Niedersachsen;Oldenburg;170.389;"
    "53,14;8,21;beworben;",
    "03101000;Braunschweig Rückzug;kreisfreie Stadt;Niedersachsen;Braunschweig;251.364;"
    "52,26;10,52;ausgeschieden;01.01.2021",
    "05913000;=SUM(1) Dortmund;kreisfreie Stadt;Nordrhein-Westfalen;Dortmund;595.471;"
    "51,51;7,47;interessiert;",
    "05315000;Köln & Co;kreisfreie Stadt;Nordrhein-Westfalen;Köln;1.084.831;50,94;6,96;"
    "aufgenommen;01.01.2022",
    "05111000;Düsseldorf;kreisfreie Stadt;Nordrhein-Westfalen;Düsseldorf;629.047;51,23;6,78;"
    "aktiv;01.11.2021",
))
EXTRA_MEILENSTEINE = "05111000;Erstgespräch;01.11.2021;03.11.2021;\n"


@pytest.fixture(scope="module")
def map_db(tmp_path_factory) -> object:
    """The hand-made cohort plus communes in every status, some with hostile names."""
    base = tmp_path_factory.mktemp("map")
    out = base / "karte.duckdb"
    build(write_cohort(base / "input", kommunen=KOMMUNEN + EXTRA_KOMMUNEN,
                       meilensteine=MEILENSTEINE + EXTRA_MEILENSTEINE), out)
    return out


def _sql(db, q: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(q).fetchall()
    finally:
        con.close()


def _decode(value):
    """A Plotly typed array ({"dtype", "bdata"}) or a plain list, as a numpy array."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=object)


def _sent_traces(at) -> list[dict]:
    """The map traces as Streamlit sends them to the browser."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return spec["data"]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ---- the lean figure shows the data layer's points ------------------------------------------


@pytest.mark.parametrize("colour", ["status", "phase"])
def test_staff_map_sends_every_commune_with_its_values(use_db, map_db, colour):
    at = run_page(use_db, map_db, page="karte")
    if colour != "status":
        at.radio(key="map_colour").set_value(colour).run()
        assert_ok(at)
    expected = {r[0]: r[1:] for r in _sql(map_db, """
        select k.kommune_id, k.name, k.typ, k.bundesland, k.status, k.einwohner, k.lat, k.lon,
               m.aktuelle_phase, coalesce(m.naechster_meilenstein, '–')
        from kommune k join mart_kommune m using (kommune_id)""")}
    seen = {}
    for trace in _sent_traces(at):
        hover = _decode(trace["customdata"]).tolist()
        lat, lon = _decode(trace["lat"]), _decode(trace["lon"])
        assert len(hover) == len(lat) == len(lon)
        for (name, typ, status, phase, next_milestone, einwohner), la, lo in zip(
                hover, lat, lon, strict=True):
            ags = next(a for a, v in expected.items() if v[0] == _unescape(name))
            assert ags not in seen
            seen[ags] = True
            _name, e_typ, _land, e_status, e_einw, e_lat, e_lon, e_phase, e_next = expected[ags]
            assert (typ, status, phase, next_milestone) == (e_typ, e_status, e_phase, e_next)
            assert einwohner == fmt.number(e_einw)
            assert abs(la - e_lat) < 1e-4 and abs(lo - e_lon) < 1e-4
            if colour == "status":
                assert trace["name"] == status
    assert set(seen) == set(expected)  # staff see every commune, each once


def test_map_hover_escapes_names_and_matches_the_template(map_db, use_db):
    use_db(map_db)
    labels = {k: k for k in ("typ", "bundesland", "status", "phase", "next", "einwohner",
                             "none", "none_started")}
    points = data.load_map_points(data.STAFF)
    lean = maps.points_map(points, "status", labels)
    names = {}
    for trace, rows in zip(lean.figure.data, lean.rows, strict=True):
        assert trace.hovertemplate.count("%{customdata[") == 6
        for row, values in zip(rows, trace.customdata, strict=True):
            names[points["name"][int(row)]] = values[0]
    assert names["München <script>alert(1)</script>"] == \
        "München &lt;script&gt;alert(1)&lt;/script&gt;"
    assert names["Köln & Co"] == "Köln &amp; Co"
    assert all("<" not in v for v in names.values())


def test_clicked_point_maps_back_to_its_commune(map_db, use_db):
    use_db(map_db)
    labels = {k: k for k in ("typ", "bundesland", "status", "phase", "next", "einwohner",
                             "none", "none_started")}
    points = data.load_map_points(data.STAFF)
    lean = maps.points_map(points, "status", labels)
    for curve, trace in enumerate(lean.figure.data):
        for index, values in enumerate(trace.customdata):
            row = lean.row_of({"curve_number": curve, "point_index": index})
            assert points["name"][row] == _unescape(values[0])


# ---- the public map ---------------------------------------------------------------------------


def _admitted_sql(db) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in _sql(db, """
        select k.kommune_id, k.name, k.typ, k.bundesland from kommune k
        where k.status in ('aufgenommen', 'aktiv', 'abgeschlossen')
           or (k.status = 'ausgeschieden' and exists (select 1 from meilenstein m
               where m.kommune_id = k.kommune_id and m.meilenstein = 'Erstgespräch'
               and m.erreicht_am is not null))""")}


def test_public_map_lists_admitted_communes_only_without_programme_state(use_db, map_db):
    at = open_tables(run_page(use_db, map_db, page="karte", viewer=None))
    admitted = _admitted_sql(map_db)
    # worked out by hand from the cohort: the dropout Göttingen had started, Braunschweig not
    assert set(admitted) == {"01001000", "05766020", "09162000", "03159", "05315000", "05111000"}
    traces = _sent_traces(at)
    assert len(traces) == 1 and "status" not in json.dumps(traces[0].get("name", ""))
    hover = _decode(traces[0]["customdata"]).tolist()
    assert sorted(_unescape(h[0]) for h in hover) == sorted(v[0] for v in admitted.values())
    for name, typ, land, _einwohner in hover:  # name, type, Land, population – nothing else
        assert (typ, land) == next(v[1:] for v in admitted.values() if v[0] == _unescape(name))
    table = frames(at)[0]
    assert sorted(table["AGS"]) == sorted(admitted)
    assert list(table.columns) == ["Kommune", "AGS", "Art", "Bundesland", "Einwohner", "lat",
                                   "lon"]
    spec = at.get("plotly_chart")[0].proto.spec
    page_text = spec + table.to_csv() + " ".join(
        str(e.value) for kind in ("markdown", "caption", "info") for e in getattr(at, kind))
    for secret in SECRET.values():
        assert secret not in page_text and _unescape(secret) not in page_text
    for word in ("aktiv", "abgeschlossen", "ausgeschieden", "aufgenommen", "Erstgespräch",
                 "überfällig"):
        assert word not in spec


def test_public_map_ignores_programme_state_filters(use_db, map_db):
    """A status filter would turn the public point list into a list of who has which status."""
    at = open_tables(run_page(use_db, map_db, page="karte", viewer=None, status="ausgeschieden"))
    assert sorted(frames(at)[0]["AGS"]) == sorted(_admitted_sql(map_db))
    assert any("gelten auf der öffentlichen Karte nicht" in i.value for i in at.info)
    use_db(map_db)
    for status in ("interessiert", "beworben", "ausgeschieden"):
        points = data.load_map_points(data.PUBLIC, data.Filters(status=(status,)))
        assert sorted(points["kommune_id"]) == sorted(_admitted_sql(map_db))


def test_public_counts_by_land_count_the_map_and_hide_small_cells(use_db, map_db):
    at = run_page(use_db, map_db, page="karte", viewer=None)
    open_tables(at.radio(key="map_view").set_value("laender").run())
    shown = {r["Bundesland"]: (r["Kommunen"], r["Einwohner"])
             for r in frames(at)[0].to_dict("records")}
    # by hand: NRW has Lemgo, Köln, Düsseldorf admitted (Dortmund only interested) → 3, shown;
    # every other Land has 1 admitted commune → hidden
    # public tables with hidden ("x") cells are text, numbers formatted in the UI language
    assert shown["Nordrhein-Westfalen"] == ("3", fmt.number(40_696 + 1_084_831 + 629_047))
    assert shown["Niedersachsen"] == ("x", "x")  # Göttingen; not Hannover/Oldenburg/Braunschw.
    assert shown["Bayern"] == shown["Schleswig-Holstein"] == ("x", "x")
    assert set(shown) == {"Nordrhein-Westfalen", "Niedersachsen", "Bayern",
                          "Schleswig-Holstein"}


def test_public_cannot_see_other_map_columns_through_the_data_layer(use_db, map_db):
    use_db(map_db)
    points = data.load_map_points(data.PUBLIC)
    assert points.columns == list(data.PUBLIC_MAP_COLUMNS)
    staff = data.load_map_points(data.STAFF)
    assert {"status", "aktuelle_phase", "naechster_meilenstein"} <= set(staff.columns)


@pytest.fixture(scope="module")
def demo_options(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        rows = con.execute("select distinct bundesland, typ, groessenklasse, status, "
                           "start_quartal from mart_kommune").fetchall()
    finally:
        con.close()
    return [sorted({r[i] for r in rows if r[i] is not None}) for i in range(5)]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 50)), max_size=4))
def test_public_map_property_any_filters(use_db, demo_db, demo_options, picks):
    """For any filter combination: the public sees admitted communes only, with register columns
    only, independent of programme-state filters, and Land counts equal to its own points or
    hidden by the small-cell rule (`report_defs.suppress_small_cells`, primary and secondary)."""
    use_db(demo_db)
    chosen: dict[str, set] = {}
    names = ("bundesland", "typ", "groessenklasse", "status", "start_quartal")
    for field, index in picks:
        values = demo_options[field]
        chosen.setdefault(names[field], set()).add(values[index % len(values)])
    filters = data.Filters(**{k: tuple(sorted(v)) for k, v in chosen.items()})
    points = data.load_map_points(data.PUBLIC, filters)
    assert points.columns == list(data.PUBLIC_MAP_COLUMNS)
    admitted = _admitted_sql(demo_db)
    assert set(points["kommune_id"]) <= set(admitted)
    same_without_state = data.load_map_points(data.PUBLIC, data.public_map_filters(filters))
    assert points.equals(same_without_state)
    counts = data.counts_by_land(data.PUBLIC, filters)
    per_land = dict(points.group_by("bundesland").len().iter_rows())
    assert set(counts["bundesland"]) == set(per_land)
    # primary: 1 or 2 communes; secondary (no hidden cell may be recovered from the total): one
    # hidden cell alone also hides the smallest other one (the first in Land order on a tie)
    hidden = {land for land, n in per_land.items() if n < 3}
    if len(hidden) == 1 and len(per_land) > 1:
        hidden.add(min((n, land) for land, n in per_land.items() if land not in hidden)[1])
    for land, kommunen in counts.select("bundesland", "kommunen").iter_rows():
        assert kommunen == (None if land in hidden else per_land[land]), land
    assert counts.filter(pl.col("kommunen").is_null())["einwohner"].null_count() == \
        counts["kommunen"].null_count()


def test_boundaries_go_by_url_when_served_and_inline_otherwise(map_db, use_db):
    """Served by the app server, a map names its boundary files (content-hashed URLs under the
    given base) instead of carrying 0.24 MB (Länder) or 1.5 MB (Kreise) in every rerun."""
    use_db(map_db)
    points = data.load_map_points(data.STAFF, data.Filters())
    base = "http://example.test:8501/monitor/geo"
    served = maps.points_map(points, "status", maps.labels("de"), show_kreise=True, geo_url=base)
    sources = [layer.source for layer in served.figure.layout.map.layers]
    names = [maps.boundary_file(level)[0] for level in ("kreise", "laender")]
    assert sources == [f"{base}/{name}" for name in names]
    assert all(n.endswith(".geojson") and len(n.split("-")[1]) == 16 + len(".geojson")
               for n in names)
    inline = maps.points_map(points, "status", maps.labels("de"), show_kreise=False)
    assert [layer.source for layer in inline.figure.layout.map.layers] == [
        maps.boundaries("laender")]
    counts = pl.DataFrame({"bundesland": ["Bayern"], "kommunen": [3]})
    assert maps.land_choropleth(counts, "Kommunen", geo_url=base).data[0].geojson == (
        f"{base}/{names[1]}")


def test_boundary_route_serves_only_the_hashed_files():
    """`GET /geo/<level>-<hash>.geojson`: the file's bytes (gzip when asked), cached for good;
    any other name – an old hash, another file, a path – is a 404."""
    def get(name: str, gzip: bool = False):
        headers = [(b"accept-encoding", b"gzip, br")] if gzip else []
        return server.boundary_file(Request({"type": "http", "method": "GET", "headers": headers,
                                             "path_params": {"name": name}}))

    name, raw = maps.boundary_file("laender")
    plain = get(name)
    assert plain.status_code == 200 and plain.body == raw
    assert plain.headers["content-type"].startswith("application/geo+json")
    assert "immutable" in plain.headers["cache-control"]
    packed = get(name, gzip=True)
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.body) == raw
    for wrong in ("laender-0000000000000000.geojson", "gemeinden.csv", "../README.md",
                  name.replace("laender", "kreise"), "laender.geojson"):
        assert get(wrong).status_code == 404, wrong


def test_the_laender_colour_bar_counts_in_whole_communes():
    """A cohort of a few communes per Land: the colour bar showed "0,5" and "1,5" Kommunen."""
    few = pl.DataFrame({"bundesland": ["Bayern", "Berlin", "Hessen"], "kommunen": [3, None, 1]})
    bar = maps.land_choropleth(few, "Kommunen").data[0].colorbar
    assert (bar.dtick, bar.tickformat) == (1, ",d")
    many = pl.DataFrame({"bundesland": ["Bayern", "Hessen"], "kommunen": [2056, 422]})
    bar = maps.land_choropleth(many, "Kommunen").data[0].colorbar
    assert bar.dtick is None and bar.tickformat == ",d"  # plotly's own steps, whole numbers


@given(st.lists(st.integers(min_value=0, max_value=4_000_000), min_size=1, max_size=40),
       st.sampled_from([40, 300, 1_000, 11_000]))
def test_markers_keep_their_size_for_a_cohort_and_shrink_on_a_full_map(einwohner, n):
    """A cohort (up to 300 communes) keeps markers of 6–26 px; a national map (11,000 points)
    draws them at most 7 px, so they do not merge into one area. Bigger towns never get
    smaller markers."""
    people = pl.Series((einwohner * (n // len(einwohner) + 1))[:n], dtype=pl.Int64)
    sizes = maps.marker_sizes(people)
    largest = {40: 26, 300: 26, 1_000: 26 * (300 / 1_000) ** 0.5, 11_000: 7}[n]
    assert sizes.min() >= (6 if n <= maps.FULL_SIZE_POINTS else 2.5)
    assert sizes.max() <= largest + 0.05
    if people.max() > 0:  # the biggest town gets the biggest marker
        assert sizes.max() == pytest.approx(largest, abs=0.05)
    order = np.argsort(people.to_numpy(), kind="stable")
    assert (np.diff(sizes[order]) >= 0).all()


def test_the_legend_shows_every_status_at_one_size(map_db, use_db):
    """The legend's symbols do not follow the markers' sizes (tiny dots on a full map)."""
    use_db(map_db)
    points = data.load_map_points(data.STAFF, data.NO_FILTERS)
    fig = maps.points_map(points, "status", maps.labels("de")).figure
    assert fig.layout.legend.itemsizing == "constant"


# ---- the preview under the interactive map ----------------------------------------------------


def _preview_groups(svg: str) -> list[tuple[str, np.ndarray]]:
    """Per `<g>` of the preview: its fill colour and its circles as rows (cx, cy, r)."""
    root = ElementTree.fromstring(svg)
    groups = []
    for g in root.iter(f"{SVG}g"):
        circles = [[float(c.get(k)) for k in ("cx", "cy", "r")] for c in g.iter(f"{SVG}circle")]
        groups.append((g.get("fill"), np.asarray(circles).reshape(-1, 3)))
    return groups


@pytest.mark.parametrize("colour", ["status", "phase"])
def test_the_preview_draws_each_point_as_the_map_does(map_db, use_db, colour):
    """Every point of the map's traces once in the preview: at its projected place, with the
    trace's colour (status) or the colour scale's colour of its phase, at the marker's size."""
    use_db(map_db)
    points = data.load_map_points(data.STAFF, data.NO_FILTERS)
    lean = maps.points_map(points, colour, maps.labels("de"))
    groups = _preview_groups(maps.preview_svg(points, colour))
    drawn = np.concatenate([circles for _, circles in groups])
    assert len(drawn) == points.height
    fills = np.concatenate([[fill] * len(circles) for fill, circles in groups])
    x, y = maps.project(points["lon"].to_numpy(), points["lat"].to_numpy(),
                        maps.PREVIEW_WIDTH, maps.HEIGHT)
    sizes = maps.marker_sizes(points["einwohner"])
    for row in range(points.height):  # each point where the map puts it, once
        at = np.flatnonzero((np.abs(drawn[:, 0] - x[row]) < 0.06)
                            & (np.abs(drawn[:, 1] - y[row]) < 0.06))
        assert len(at) == 1, points["name"][row]
        assert drawn[at[0], 2] == pytest.approx(max(sizes[row] / 2 - 0.5, 0.5), abs=0.006)
        if colour == "status":
            trace = next(t for t, rows in zip(lean.figure.data, lean.rows, strict=True)
                         if row in rows)
            assert fills[at[0]] == trace.marker.color
        else:
            phase = points["phase_index"][row] or 0
            expected = sample_colorscale(get_colorscale(maps.PHASE_SCALE),
                                         phase / len(MEILENSTEIN_NAMES))[0]
            assert fills[at[0]] == "#{:02x}{:02x}{:02x}".format(
                *(int(float(v)) for v in expected[4:-1].split(",")))
    if colour == "status":  # drawn in the map's order: communes that left at the bottom
        assert [fill for fill, _ in groups] == [t.marker.color for t in lean.figure.data]
    else:  # the colour bar stands inside the map, which keeps its full width and centre
        bar = lean.figure.data[0].marker.colorbar
        assert bar.x <= 1 and bar.xanchor == "right"


def test_the_public_preview_shows_admitted_communes_in_one_colour_and_no_text(use_db, map_db):
    """The public preview draws what the public map draws: admitted communes only, one colour
    (no programme state), and no text from the data at all (only numbers and our colours)."""
    use_db(map_db)
    points = data.load_map_points(data.PUBLIC, data.NO_FILTERS)
    svg = maps.preview_svg(points, "none")
    groups = _preview_groups(svg)
    assert [fill for fill, _ in groups] == [maps.NEUTRAL]
    assert len(groups[0][1]) == points.height == len(_admitted_sql(map_db))
    every = {r[0]: r[1:] for r in _sql(map_db, "select kommune_id, lon, lat from kommune")}
    drawn = groups[0][1]
    for ags in SECRET:  # nothing drawn where a commune the public must not see lies
        x, y = maps.project(np.array([every[ags][0]]), np.array([every[ags][1]]),
                            maps.PREVIEW_WIDTH, maps.HEIGHT)
        assert not ((np.abs(drawn[:, 0] - x[0]) < 0.5) & (np.abs(drawn[:, 1] - y[0]) < 0.5)).any()
    text = re.sub(r'"[^"]*"', '""', svg)  # attribute values aside, only tags remain
    assert set(re.findall(r"</?([a-z]+)", text)) == {"svg", "path", "g", "circle"}
    assert re.sub(r"<[^>]*>", "", text) == ""  # no text content
    values = re.findall(r'="([^"]*)"', svg)
    allowed = r"[-0-9. ]+|[-0-9 ML]+|#[0-9a-fA-F]{6}|none|img|http://www\.w3\.org/2000/svg"
    assert all(re.fullmatch(allowed, v) for v in values), [
        v for v in values if not re.fullmatch(allowed, v)][:5]


def test_the_preview_sits_where_maplibre_draws_the_map():
    """The projection is MapLibre's: 512-px tiles, Web Mercator, centred on `CENTER`."""
    width, height = 1000, maps.HEIGHT
    x, y = maps.project(np.array([maps.CENTER["lon"], maps.CENTER["lon"] + 1.0]),
                        np.array([maps.CENTER["lat"], maps.CENTER["lat"]]), width, height)
    assert (x[0], y[0]) == pytest.approx((width / 2, height / 2))
    assert x[1] - x[0] == pytest.approx(512 * 2 ** maps.ZOOM / 360)  # 34.5 px per degree
    _, north = maps.project(np.array([10.0]), np.array([55.0]), width, height)
    _, south = maps.project(np.array([10.0]), np.array([47.0]), width, height)
    assert north[0] < height / 2 < south[0]  # north up
    one = pl.DataFrame({"name": ["a"], "typ": ["Stadt"], "bundesland": ["Bayern"],
                        "einwohner": [1], "lat": [48.0], "lon": [11.0]})
    assert maps.points_map(one, "none", maps.labels("de")).figure.layout.map.zoom == maps.ZOOM
