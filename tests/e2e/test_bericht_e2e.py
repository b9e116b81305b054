"""Bericht in real Chromium: a staff member signs in, opens the report, downloads the XLSX."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pikepdf
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from dashboard.report import definitions as rd
from tests.e2e.conftest import login, open_page, screenshot, serious_violations

LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:")


def test_bericht_downloads_the_xlsx_offline(page: Page, app_url: str, tmp_path):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(LOCAL) else None)
    login(page, app_url)  # the report is for the programme team
    open_page(page, "Bericht")
    expect(page.get_by_role("heading", name="Bericht: Kennzahlen für den NAP-I")).to_be_visible(
        timeout=30_000)
    metric = page.locator('[data-testid="stMetric"]').filter(
        has_text="Teilnehmende Modellkommunen").first
    expect(metric).to_be_visible(timeout=30_000)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)

    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Excel (XLSX)").click()
    download = info.value
    assert download.suggested_filename == (
        "weltoffene-kommune_kennzahlen_2019-11-05_2022-03-15_stichtag-2022-03-15.xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    assert wb.sheetnames == [t.sheet for t in rd.TABLES] + ["Hinweise"]
    stichtag = next(r for r in wb["Hinweise"].iter_rows() if r[0].value == "Stichtag")[1]
    assert stichtag.value == dt.datetime(2022, 3, 15)
    rows = list(wb["Überblick"].iter_rows(values_only=True))
    shown = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert str(rows[1][1]) == shown  # the page and the file show the same number
    # both files are made on click (deferred downloads): the CSV archive too
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="CSV (ZIP, alle Tabellen)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert "hinweise.txt" in archive.namelist() and len(archive.namelist()) == len(rd.TABLES) + 1
    screenshot(page, "bericht")
    # the download's audit callback reruns the page: axe measures the page after that run
    assert serious_violations(page) == []
    assert outside == []


def test_bericht_in_english_downloads_an_english_pdf(page: Page, app_url: str, tmp_path):
    """The English UI renders the English brief: English charts and texts, /Lang en, `_en`."""
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(LOCAL) else None)
    login(page, app_url)
    page.goto(f"{app_url}/bericht?lang=en")
    expect(page.get_by_role("heading", name="Report: key figures for the NAP-I")).to_be_visible(
        timeout=30_000)
    expect(page.get_by_text("the PDF brief) are in English")).to_be_visible()
    page.get_by_role("button", name="Create charts and PDF").click()
    button = page.get_by_role("button", name="PDF brief")
    expect(button).to_be_visible(timeout=300_000)  # five charts in Chromium, then the PDF
    with page.expect_download(timeout=30_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == (
        "weltoffene-kommune_kurzbericht_2019-11-05_2022-03-15_stichtag-2022-03-15_en.pdf")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with pikepdf.open(path) as pdf:
        assert str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo.Title) == "Weltoffene Kommune – key figures for the NAP-I"
    text = " ".join(p.extract_text() for p in PdfReader(path).pages)
    assert "Cut-off date 15 Mar 2022" in text and "Stichtag" not in text
    screenshot(page, "bericht_en_pdf")
    assert outside == []
