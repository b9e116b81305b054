"""Report charts drawn by plotly.js in real Chromium: what a reader sees, measured in the page."""

from __future__ import annotations

import json

from playwright.sync_api import Page

from dashboard import data
from dashboard.report import charts as report_charts
from dashboard.report import definitions as rd

GAPS = """() => {
  const box = e => e.getBoundingClientRect();
  const names = Object.fromEntries([...document.querySelectorAll('.ytick text')]
    .map(t => [t.textContent, box(t)]));
  return [...document.querySelectorAll('.textpoint text')]
    .filter(t => t.textContent === 'x')
    .map(t => { const b = box(t);
      const name = Object.entries(names).find(([, n]) => Math.abs(n.top - b.top) < 6);
      return [name[0], b.left - name[1].right]; });
}"""


def test_a_hidden_figures_x_keeps_its_distance_from_the_land_name(page: Page, demo_db,
                                                                    monkeypatch):
    """Public edition: a Land whose figure is hidden shows "x" where its bar would be; it
    stood flush against the name ("Bayernx")."""
    monkeypatch.setenv("WK_DB", str(demo_db))
    info = data.build_info()
    public = data.load_report(data.PUBLIC, rd.PROGRAMMSTART, info.datenstand, info.datenstand)
    fig = report_charts.chart_figure("kommunen_bundesland", public)
    page.set_content('<div id="chart" style="width:900px"></div>')
    page.add_script_tag(path=str(report_charts.plotly_js()))
    page.evaluate("f => Plotly.newPlot('chart', f.data, f.layout)", json.loads(fig.to_json()))
    gaps = page.evaluate(GAPS)
    assert len(gaps) >= 3  # the demo's public edition hides several Länder
    assert all(gap >= 6 for _, gap in gaps), gaps
