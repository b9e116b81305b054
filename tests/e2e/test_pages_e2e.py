"""Every monitoring page in real Chromium: renders, stays offline, passes axe (WCAG 2.1 AA)."""

from __future__ import annotations

import base64
import re
from xml.etree import ElementTree

import duckdb
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, open_page, public_kommunen, screenshot, serious_violations

LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:")
# Pages, the text that shows the page's main content has rendered, and whether it needs staff.
PAGES = {
    "ueberblick": ("Überblick", "Kommunen nach Status", False),
    "karte": ("Karte", "Kommunen je Bundesland", False),
    "fortschritt": ("Fortschritt", "Zeitplan je Kommune", True),
    "module": ("Module", "Nach Modul", False),  # the public edition (no months: small cells)
    "kommune": ("Kommune", "Steckbrief", True),
}

RENDERED_MAP_FEATURES = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout.map);
  const map = gd._fullLayout.map._subplot.map;
  const counts = {};
  for (const f of map.queryRenderedFeatures()) {
    const key = f.layer.type + ':' + f.geometry.type.replace('Multi', '');
    counts[key] = (counts[key] || 0) + 1;
  }
  return counts;
}"""


def _url(app_url: str, stem: str, query: str = "") -> str:
    """The default page (Überblick) lives at the root URL."""
    return f"{app_url}/{'' if stem == 'ueberblick' else stem}{query}"


def _menu(page: Page, name: str = "Seiten") -> list[tuple[str, list[str]]]:
    """The sidebar menu (the navigation landmark `name`): (section heading, page titles) in
    order. (A link's text also holds the icon's ligature name: the title is its <p>.)"""
    nav = page.get_by_role("navigation", name=name)
    expect(nav.locator("a").first).to_be_visible(timeout=30_000)
    sections: list[tuple[str, list[str]]] = []
    for item in nav.locator("h3, a").all():
        if item.evaluate("e => e.tagName") == "H3":
            sections.append((item.inner_text().strip(), []))
        else:
            sections[-1][1].append(item.locator("p").inner_text().strip())
    return sections


def _current(page: Page) -> list[str]:
    """Titles of the menu links marked `aria-current="page"`."""
    return [t.strip() for t in page.get_by_role("navigation", name="Seiten").locator(
        'a[aria-current="page"] p').all_inner_texts()]


def _watch_requests(page: Page) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(LOCAL) else None)
    return outside


@pytest.mark.parametrize("stem", list(PAGES))
def test_page_renders_offline_and_accessible(page: Page, app_url: str, stem: str):
    outside = _watch_requests(page)
    title, marker, staff = PAGES[stem]
    if staff:
        login(page, app_url)
        open_page(page, title)
    else:
        page.goto(_url(app_url, stem))
    expect(page.get_by_text(marker).first).to_be_visible(timeout=30_000)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)  # let plotly and MapLibre finish drawing
    screenshot(page, stem)
    assert outside == [], outside
    assert serious_violations(page) == []


def _public_points(db) -> int:
    """The points of the public map: admitted communes only (a dropout if its track had
    started)."""
    return duckdb.connect(str(db), read_only=True).execute(
        "select count(*) from mart_kommune where status in ('aufgenommen', 'aktiv', "
        "'abgeschlossen') or (status = 'ausgeschieden' and start_ist is not null)").fetchone()[0]


def test_map_draws_boundaries_and_every_point(page: Page, app_url: str, demo_db):
    outside = _watch_requests(page)
    # the boundaries come as files from the app server, not inside the WebSocket messages
    geo: list[tuple[str, int]] = []
    page.on("response", lambda r: geo.append((r.url.rsplit("/", 1)[-1].split("-")[0], r.status))
            if "/geo/" in r.url else None)
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())))
    page.goto(f"{app_url}/karte")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "() => { const g = [...document.querySelectorAll('.js-plotly-plot')]"
        ".find(g => g._fullLayout.map); return g && g._fullLayout.map._subplot.map.loaded(); }",
        timeout=30_000,
    )
    counts = page.evaluate(RENDERED_MAP_FEATURES)
    assert counts.get("circle:Point") == _public_points(demo_db)
    assert 16 <= counts.get("line:Polygon", 0) < 100  # the Länder outlines
    # Kreis boundaries on demand (off by default: 1.5 MB less for every map load)
    page.get_by_text("Kreisgrenzen zeigen").click()
    page.wait_for_function(
        "() => { const g = [...document.querySelectorAll('.js-plotly-plot')]"
        ".find(g => g._fullLayout.map); const m = g._fullLayout.map._subplot.map;"
        " return m.loaded() && m.queryRenderedFeatures().length > 300; }",
        timeout=30_000, polling=250,
    )
    assert page.evaluate(RENDERED_MAP_FEATURES).get("line:Polygon", 0) > 300
    assert outside == []
    assert ("laender", 200) in geo and ("kreise", 200) in geo
    assert frames and not any(b"FeatureCollection" in f for f in frames)


# The preview as the page first shows it: its image, where its box lies, and how the box takes
# part in the page (under the map's box content, letting every click through).
PREVIEW_SHOWN = """() => {
  const img = document.querySelector('[data-testid="stMain"] .wk-map-preview img');
  if (!img || !img.complete) return null;
  const box = img.closest('[data-testid="stElementContainer"]');
  const r = img.closest('.wk-map-preview').getBoundingClientRect();
  const style = getComputedStyle(box);
  return {src: img.src, left: r.left, top: r.top, width: r.width, zIndex: style.zIndex,
          pointerEvents: style.pointerEvents};
}"""
# The map's points as MapLibre projects them, in page pixels, once the map has loaded.
MAP_POINTS = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => g._fullLayout && g._fullLayout.map);
  const map = gd && gd._fullLayout.map._subplot.map;
  if (!map || !map.loaded()) return null;
  const trace = gd._fullData.find(t => t.type === 'scattermap');
  const r = map.getContainer().getBoundingClientRect();
  return [...trace.lon].map((lon, i) => {
    const p = map.project([lon, trace.lat[i]]);
    return [r.left + p.x, r.top + p.y];
  });
}"""


def test_the_maps_preview_lies_under_its_points_until_the_map_is_drawn(page: Page, app_url: str,
                                                                       demo_db):
    """The Karte first shows its points as a preview image drawn by the server (Plotly's script
    takes a second and more to load), under the place of the interactive map, which has no
    background. Every preview circle lies where MapLibre then draws the same commune's point;
    clicks go through the preview to the map; once the map has drawn, the preview is gone (a
    panned map never shows it)."""
    page.goto(f"{app_url}/karte")
    shown = page.wait_for_function(PREVIEW_SHOWN, timeout=30_000).json_value()
    assert (shown["zIndex"], shown["pointerEvents"]) == ("-1", "none")
    svg = ElementTree.fromstring(base64.b64decode(shown["src"].split(",", 1)[1]))
    circles = [(float(c.get("cx")), float(c.get("cy")))
               for c in svg.iter("{http://www.w3.org/2000/svg}circle")]
    left = shown["left"] + shown["width"] / 2 - float(svg.get("width")) / 2
    points = page.wait_for_function(MAP_POINTS, timeout=30_000).json_value()
    assert len(circles) == len(points) == _public_points(demo_db)
    # the public map is one trace, drawn in the preview's order
    offsets = [((left + cx - x) ** 2 + (shown["top"] + cy - y) ** 2) ** 0.5
               for (cx, cy), (x, y) in zip(circles, points, strict=True)]
    assert max(offsets) < 1.0, sorted(offsets)[-3:]  # pixels
    expect(page.locator(".wk-map-preview img")).to_have_count(0, timeout=15_000)


def test_filter_in_url_is_applied_and_reset(page: Page, app_url: str, demo_db):
    lands = [r[0] for r in duckdb.connect(str(demo_db), read_only=True).execute(
        "select distinct bundesland from kommune order by 1").fetchall()]
    shown = {name: public_kommunen(demo_db, name, staff=True) for name in lands}
    land = max(lands, key=lambda name: int(shown[name]))
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Kommunen").first
    # the public reads the whole programme whatever the filter (two selections could be
    # subtracted), and is told so
    page.goto(_url(app_url, "ueberblick", f"?bundesland={land}"))
    expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(
        public_kommunen(demo_db), timeout=30_000)
    expect(page.get_by_text("gelten immer für das ganze Programm")).to_be_visible()
    # staff: the filter from the URL applies, and the reset button clears it
    login(page, app_url)
    page.goto(_url(app_url, "ueberblick", f"?bundesland={land}"))
    expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(shown[land],
                                                                         timeout=30_000)
    assert shown[land] != public_kommunen(demo_db, staff=True)
    page.get_by_role("button", name="Filter zurücksetzen").click()
    expect(page).to_have_url(f"{app_url}/", timeout=10_000)
    expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(
        public_kommunen(demo_db, staff=True))


def test_profile_is_reachable_from_a_list(page: Page, app_url: str, demo_db):
    """Staff open the overdue list on Fortschritt and click a row: the profile opens, signed in."""
    con = duckdb.connect(str(demo_db), read_only=True)
    login(page, app_url)
    open_page(page, "Fortschritt")
    expect(page.get_by_role("heading", name="Überfällige Meilensteine")).to_be_visible(
        timeout=30_000)
    table = page.locator('[data-testid="stDataFrame"]').last
    screenshot(page, "fortschritt_angemeldet")
    expect(table).to_be_visible(timeout=30_000)
    first = con.execute(
        "select k.name from mart_fortschritt f join kommune k using (kommune_id) "
        "where zustand = 'überfällig' order by tage_ueberfaellig desc, k.name, f.reihenfolge "
        "limit 1").fetchone()[0]
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = table.bounding_box()
    # the selection box of the first data row (left edge; header and rows are ~35 px high)
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    try:
        expect(page.get_by_role("heading", name=first)).to_be_visible(timeout=30_000)
    finally:
        screenshot(page, "kommune_profil")
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def test_public_sees_only_public_pages_and_no_personal_data(page: Page, app_url: str, demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    personal = [v for row in con.execute(
        "select ansprechperson, email, telefon from kommune").fetchall() for v in row if v]
    page.goto(app_url)
    expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible(timeout=30_000)
    assert _menu(page) == [("Programm", ["Überblick", "Karte", "Module"]),
                           ("Konto", ["Anmelden"])]
    assert _current(page) == ["Überblick"]
    for title in ("Überblick", "Karte", "Module"):
        open_page(page, title)
        page.wait_for_timeout(2000)
        html = page.content()
        assert [p for p in personal if p in html] == [], title
    # a restricted page by URL leads to the sign-in with a German hint, not "Page not found"
    page.goto(f"{app_url}/daten")
    expect(page.get_by_text("Die Seite „Daten“ ist nur nach der Anmeldung sichtbar")
           ).to_be_visible(timeout=30_000)
    expect(page.get_by_label("Benutzername")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)


def test_staff_menu_in_sections_is_accessible_and_keeps_the_filters(page: Page, app_url: str):
    """Signed in as staff: all three sections, no axe violation in the menu; a link in a
    section opens its page with the chosen filter; the menu follows the language."""
    login(page, app_url)
    expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible(timeout=30_000)
    assert _menu(page) == [
        ("Programm", ["Überblick", "Karte", "Fortschritt", "Module"]),
        ("Kommunen", ["Kommune", "Vernetzung", "Handlungsplan"]),
        ("Programmteam", ["Fristen & Versand", "Bericht", "Daten"])]
    assert _current(page) == ["Überblick"]
    page.wait_for_timeout(1500)  # let the charts finish drawing
    screenshot(page, "angemeldet_programmteam")
    assert serious_violations(page) == []
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="Bayern").click()
    page.wait_for_url("**/?bundesland=Bayern")
    expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible()
    assert serious_violations(page) == []  # the chosen pill too (its contrast was 4.26:1)
    nav = page.get_by_role("navigation", name="Seiten")
    # the link already carries the filter (a new tab opens the same selection)
    expect(nav.get_by_role("link", name="Fristen & Versand")).to_have_attribute(
        "href", "fristen?bundesland=Bayern")
    nav.get_by_role("link", name="Fristen & Versand").click()
    page.wait_for_url("**/fristen?bundesland=Bayern")
    expect(page.get_by_role("heading", name="Fristen & Versand").first).to_be_visible()
    expect(nav.locator('a[aria-current="page"]')).to_have_text(re.compile("Fristen & Versand"))
    assert _current(page) == ["Fristen & Versand"]
    expect(sidebar.get_by_role("button", name="Bayern", pressed=True)).to_be_visible()
    sidebar.get_by_text("English").click()
    page.wait_for_url("**/fristen?bundesland=Bayern&lang=en")
    expect(page.get_by_role("navigation", name="Pages")).to_be_visible()
    assert _menu(page, "Pages") == [
        ("Programme", ["Overview", "Map", "Progress", "Modules"]),
        ("Municipalities", ["Municipality", "Networking", "Action plan"]),
        ("Programme team", ["Deadlines & delivery", "Report", "Data"])]
    screenshot(page, "angemeldet_programmteam_englisch")
