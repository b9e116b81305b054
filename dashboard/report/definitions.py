"""NAP-I report: the one place that defines every report table, figure and rule.

The figures themselves are computed by the table macros in `etl/sql/marts/kennzahl_*.sql`;
this module says what they mean (German for the exports, English for the switched UI), how they
are labelled and formatted, and which published cells are too small for the public. The Bericht
page, the XLSX sheet "Hinweise", the CSV files and the PDF brief all read from here.

Pure module: no I/O, no Streamlit, no DuckDB.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from dashboard import fmt
from dashboard.i18n import translate_values, value, value_names
from dashboard.model import BuildInfo
from etl.schema import ZIEL_MONATE

PROGRAMMSTART = dt.date(2019, 11, 5)  # kick-off in Potsdam: default start of the period
SMALL_CELL_LIMIT = 3  # public exports hide figures resting on 1 or 2 communes
# statuses before admission: not in the public edition (neither rows nor totals)
NICHT_AUFGENOMMEN = ("noch nicht im Programm", "interessiert", "beworben")
# The attacker audit computes the report once without each commune of the selection: about 40
# communes take a second; at national scale (11,000) it would take hours. Above this many
# communes only the outsider audit runs, and the protection note says so. (For counts the
# outsider audit already grants every hidden positive cell ">= 1", all a commune adds there.)
ATTACKER_LIMIT = 300
# Every hidden public value shows the same mark, as in official statistics: a reader cannot tell a
# value resting on 1 or 2 communes from one hidden to protect it (protection.py's reader model).
SMALL_CELL_TEXT = "x"
FILE_PREFIX = "weltoffene-kommune"

Kind = Literal["text", "int", "decimal"]


@dataclass(frozen=True)
class Column:
    """One column of a report table.

    `basis` names the column(s) whose sum is the number of communes the figure rests on; the
    small-cell rule uses it. Empty for descriptive columns (labels, quarters).
    """

    name: str
    kind: Kind
    label_de: str
    label_en: str
    definition_de: str = ""
    definition_en: str = ""
    basis: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.label_de if lang == "de" else self.label_en

    def definition(self, lang: str) -> str:
        return self.definition_de if lang == "de" else self.definition_en


@dataclass(frozen=True)
class Table:
    """One report table = one SQL table macro = one XLSX sheet = one CSV file.

    `groups`: rows whose figures add up to a published total; within such a group a single hidden
    cell is protected by hiding a second one (`None`: no secondary suppression, `()`: the whole
    table is one group).
    """

    key: str
    macro: str
    sheet: str
    title_de: str
    title_en: str
    description_de: str
    description_en: str
    columns: tuple[Column, ...]
    groups: tuple[str, ...] | None = None
    # rows of the public edition (None: all). Fine tables (quarter × topic) are almost all small
    # cells for about 40 communes; like statistical offices, the public edition publishes the
    # coarser table instead of a table of hidden cells. A row "Insgesamt" is recomputed from the
    # rows kept (`public_frame`).
    public_rows: pl.Expr | None = None

    def public_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of the public edition, with "Insgesamt" as the sum of the rows kept."""
        if self.public_rows is None:
            return frame
        kept = frame.filter(self.public_rows)
        label = self.columns[0].name
        if "Insgesamt" not in kept[label].to_list():
            return kept
        parts = kept.filter(pl.col(label) != "Insgesamt")
        total = parts.select(pl.lit("Insgesamt").alias(label),
                             *(pl.col(c).sum() for c in kept.columns if c != label))
        return pl.concat([parts, total.cast(kept.schema)])

    def title(self, lang: str) -> str:
        return self.title_de if lang == "de" else self.title_en

    def description(self, lang: str) -> str:
        return self.description_de if lang == "de" else self.description_en

    def sheet_name(self, lang: str) -> str:
        """The XLSX sheet (at most 31 characters)."""
        return self.sheet if lang == "de" else SHEETS_EN[self.key]

    @property
    def basis(self) -> dict[str, tuple[str, ...]]:
        return {c.name: c.basis for c in self.columns if c.basis}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Figure:
    """One headline figure (a row of the table `ueberblick`)."""

    key: str
    label_de: str
    label_en: str
    definition_de: str
    definition_en: str

    def label(self, lang: str) -> str:
        return self.label_de if lang == "de" else self.label_en

    def definition(self, lang: str) -> str:
        return self.definition_de if lang == "de" else self.definition_en


_LO, _HI = ZIEL_MONATE
_TEILNEHMEND_DE = "Status aufgenommen, aktiv oder abgeschlossen am Stichtag"
_TEILNEHMEND_EN = "status accepted, active or finished on the cut-off date"
_AKTIV_DE = ("Status aktiv am Stichtag: Beginn der Prozessbegleitung bis zum Stichtag belegt, "
             "Abschluss noch nicht")
_AKTIV_EN = "status active on the cut-off date: track begun by then, not yet finished"
_BEGINN_DE = ("Beginn = Erstgespräch erreicht, sonst der früheste erreichte weitere "
              "Selbstcheck-Schritt (Fragebogen, Auswertung, Workshop)")
_BEGINN_EN = ("start = first meeting reached, else the earliest later self-check step "
              "reached")
_MONAT_DE = "Monate zu 30,44 Tagen"
_MONAT_EN = "months of 30.44 days"


def _n(name: str, label_de: str, label_en: str, definition_de: str, definition_en: str,
       basis: tuple[str, ...] | None = None) -> Column:
    """A count or sum column; by default it rests on as many communes as it counts itself."""
    return Column(name, "int", label_de, label_en, definition_de, definition_en,
                  basis if basis is not None else (name,))


FIGURES: tuple[Figure, ...] = (
    Figure("kommunen_teilnehmend", "Teilnehmende Modellkommunen", "Participating communes",
           f"Kommunen mit {_TEILNEHMEND_DE}.", f"Communes with {_TEILNEHMEND_EN}."),
    Figure("kommunen_aktiv", "davon aktiv", "of which active",
           f"{_AKTIV_DE}.", f"{_AKTIV_EN}."),
    Figure("kommunen_abgeschlossen", "davon abgeschlossen", "of which finished",
           "Status abgeschlossen am Stichtag: Meilenstein Abschluss bis zum Stichtag erreicht.",
           "Status finished on the cut-off date: milestone Completion reached by then."),
    Figure("kommunen_ausgeschieden", "Ausgeschiedene Kommunen", "Communes that left",
           "Registerstatus ausgeschieden und Austrittsdatum (ausgeschieden_am, sonst "
           "geschätzt, siehe Regeln) bis zum Stichtag.",
           "Register status left and exit date (ausgeschieden_am, else estimated) by the "
           "cut-off date."),
    Figure("einwohner_erreicht", "Erreichte Einwohnerinnen und Einwohner", "Inhabitants reached",
           "Summe der Einwohnerzahlen der am Stichtag aktiven und abgeschlossenen Kommunen.",
           "Sum of the population of communes active or finished on the cut-off date."),
    Figure("bundeslaender", "Bundesländer mit Modellkommunen", "Federal states covered",
           "Anzahl der Bundesländer mit mindestens einer teilnehmenden Kommune.",
           "Number of states with at least one participating commune."),
    Figure("tracks_gestartet", "Gestartete Prozessbegleitungen im Zeitraum",
           "Tracks started in the period",
           f"Kommunen, deren Beginn im Berichtszeitraum liegt ({_BEGINN_DE}).",
           f"Communes whose start lies in the period ({_BEGINN_EN})."),
    Figure("selbstcheck_workshop", "Selbstcheck abgeschlossen (Workshop)",
           "Self-check completed (workshop)",
           "Kommunen, die den akteursübergreifenden Workshop bis zum Stichtag erreicht haben.",
           "Communes that reached the cross-actor workshop by the cut-off date."),
    Figure("tracks_abgeschlossen", "Abgeschlossene Prozessbegleitungen", "Finished tracks",
           "Kommunen mit Beginn und Abschluss bis zum Stichtag.",
           "Communes with start and finish by the cut-off date."),
    Figure("median_dauer_monate", "Mittlere Prozessdauer (Median, Monate)",
           "Median track duration (months)",
           f"Median der Dauer Beginn → Abschluss der abgeschlossenen Prozessbegleitungen, "
           f"in {_MONAT_DE}. Ziel: {_LO} bis {_HI} Monate.",
           f"Median duration start → finish of finished tracks, in {_MONAT_EN}. "
           f"Target: {_LO} to {_HI} months."),
    Figure("anteil_im_ziel_prozent", f"Abschluss in ≤ {_HI} Monaten (%)",
           f"Finished within {_HI} months (%)",
           f"Anteil der abgeschlossenen Prozessbegleitungen mit einer Dauer von höchstens "
           f"{_HI} Monaten, in Prozent.",
           f"Share of finished tracks that took at most {_HI} months, in per cent."),
    Figure("tracks_laufend_ueber_ziel", f"Laufend seit mehr als {_HI} Monaten",
           f"Running for more than {_HI} months",
           f"Am Stichtag aktive Kommunen, deren Beginn mehr als {_HI} Monate zurückliegt.",
           f"Communes active on the cut-off date that began more than {_HI} months before."),
    Figure("veranstaltungen", "Veranstaltungen im Zeitraum", "Events in the period",
           "Veranstaltungen aller Module im Berichtszeitraum; eine gemeinsame Veranstaltung "
           "mehrerer Kommunen zählt einmal.",
           "Events of all modules in the period; an event shared by communes counts once."),
    Figure("teilnehmende", "Teilnehmende im Zeitraum", "Participants in the period",
           "Summe der gemeldeten Teilnehmenden dieser Veranstaltungen (alle Kommunen).",
           "Sum of reported participants of these events (all communes)."),
    Figure("vernetzungsformate", "Vernetzungs- und Austauschformate (Modul 2)",
           "Networking formats (module 2)",
           "Veranstaltungen des Moduls 2 im Berichtszeitraum.",
           "Events of module 2 in the period."),
    Figure("dialogveranstaltungen", "Dialogveranstaltungen (Modul 3)",
           "Dialogue events (module 3)",
           "Veranstaltungen des Moduls 3 im Berichtszeitraum.",
           "Events of module 3 in the period."),
)
FIGURE_BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}

_SEKTOREN = (
    ("verwaltung", "Verwaltung", "Administration"),
    ("politik", "Politik", "Politics"),
    ("zivilgesellschaft", "Zivilgesellschaft", "Civil society"),
    ("wirtschaft", "Wirtschaft", "Business"),
    ("einwohnerschaft", "Einwohnerschaft", "Residents"),
)

TABLES: tuple[Table, ...] = (
    Table(
        "ueberblick", "kennzahl_ueberblick", "Überblick",
        "Kennzahlen auf einen Blick", "Key figures at a glance",
        "Die wichtigsten Zahlen zum Stichtag und im Berichtszeitraum.",
        "The main figures on the cut-off date and in the period.",
        (
            Column("kennzahl", "text", "Kennzahl", "Figure",
                   "Bezeichnung der Kennzahl (Definitionen unten).", "Name of the figure."),
            Column("anzahl", "int", "Anzahl", "Count", "Zählwerte und Summen.",
                   "Counts and sums.", ("basis_kommunen",)),
            Column("wert", "decimal", "Wert", "Value",
                   "Dauer in Monaten bzw. Anteil in Prozent, auf eine Nachkommastelle gerundet.",
                   "Duration in months or share in per cent, one decimal.", ("basis_kommunen",)),
            _n("basis_kommunen", "Grundlage (Kommunen)", "Based on (communes)",
               "Anzahl der Kommunen, auf denen die Kennzahl beruht.",
               "Number of communes the figure rests on."),
        ),
    ),
    Table(
        "kommunen_status", "kennzahl_kommunen_status", "Kommunen nach Status",
        "Kommunen nach Status am Stichtag", "Communes by status on the cut-off date",
        "Alle Kommunen des Registers mit ihrem Status am Stichtag (Regeln unten); „noch nicht "
        "im Programm“: bis zum Stichtag ist kein Status durch ein Datum belegt.",
        "All registered communes with their status on the cut-off date; “not yet in the "
        "programme”: no status proved by a date yet.",
        (
            Column("status", "text", "Status", "Status",
                   "Status am Stichtag; letzte Zeile: alle Kommunen.",
                   "Status on the cut-off date; last row: all communes."),
            _n("kommunen", "Kommunen", "Communes", "Anzahl der Kommunen mit diesem Status.",
               "Number of communes with this status."),
            _n("einwohner", "Einwohner", "Inhabitants",
               "Summe der Einwohnerzahlen dieser Kommunen (laut Register).",
               "Sum of these communes' population.", ("kommunen",)),
        ),
        groups=(),
        # communes not admitted (yet) are not published, not even as a count (as on the map):
        # their rows are 1 or 2 communes most of the time, and "Insgesamt" minus the published
        # rows would give them away; the public total counts the rows shown
        public_rows=~pl.col("status").is_in(NICHT_AUFGENOMMEN),
    ),
    Table(
        "kommunen_merkmale", "kennzahl_kommunen_merkmale", "Kommunen nach Merkmalen",
        "Teilnehmende Kommunen nach Art, Größenklasse und Bundesland",
        "Participating communes by type, size class and state",
        "Je Merkmal alle Ausprägungen, auch ohne teilnehmende Kommune.",
        "Every value of each attribute, including those without communes.",
        (
            Column("merkmal", "text", "Merkmal", "Attribute",
                   "Art der Kommune, Größenklasse (Einwohner) oder Bundesland.",
                   "Type, size class (population) or state."),
            Column("auspraegung", "text", "Ausprägung", "Value", "Wert des Merkmals.",
                   "Value of the attribute."),
            _n("teilnehmend", "Teilnehmend", "Participating",
               f"Kommunen mit {_TEILNEHMEND_DE}.", f"Communes with {_TEILNEHMEND_EN}."),
            _n("aktiv", "davon aktiv", "of which active", f"{_AKTIV_DE}.", f"{_AKTIV_EN}."),
            _n("abgeschlossen", "davon abgeschlossen", "of which finished",
               "Status abgeschlossen am Stichtag.", "Status finished on the cut-off date."),
            _n("einwohner_erreicht", "Erreichte Einwohner", "Inhabitants reached",
               "Summe der Einwohnerzahlen der aktiven und abgeschlossenen Kommunen.",
               "Sum of the population of active and finished communes.",
               ("aktiv", "abgeschlossen")),
            _n("gestartet_im_zeitraum", "Gestartet im Zeitraum", "Started in the period",
               f"Kommunen, deren Beginn im Berichtszeitraum liegt ({_BEGINN_DE}), gleich "
               f"welchen Status sie am Stichtag haben. Über ein Merkmal summiert: Zeile "
               f"„Beginn“ im Blatt Selbstcheck-Schritte.",
               f"Communes whose start lies in the period ({_BEGINN_EN}), whatever their "
               f"status."),
        ),
        groups=("merkmal",),
    ),
    Table(
        "selbstcheck_schritte", "kennzahl_selbstcheck_schritte", "Selbstcheck-Schritte",
        "Selbstcheck: erreichte Schritte", "Self-check: steps reached",
        f"Modul 1: Erstgespräch → Fragebogen → Auswertung → Workshop. Erste Zeile „Beginn“: "
        f"{_BEGINN_DE}.",
        f"Module 1: first meeting → questionnaire → evaluation → workshop. First row: "
        f"{_BEGINN_EN}.",
        (
            Column("schritt", "text", "Schritt", "Step", "Meilenstein des Selbstchecks.",
                   "Self-check milestone."),
            _n("im_zeitraum", "Erreicht im Zeitraum", "Reached in the period",
               "Kommunen, die den Schritt im Berichtszeitraum erreicht haben.",
               "Communes that reached the step in the period."),
            _n("bis_stichtag", "Erreicht bis Stichtag", "Reached by cut-off",
               "Kommunen, die den Schritt bis zum Stichtag erreicht haben (kumuliert, auch "
               "ausgeschiedene).", "Communes that reached the step by the cut-off date."),
            Column("median_tage_seit_beginn", "decimal", "Median Tage seit Beginn",
                   "Median days since start",
                   "Median der Tage vom Beginn bis zu diesem Schritt, über die Kommunen, die "
                   "beide bis zum Stichtag erreicht haben.",
                   "Median days from start to this step.", ("bis_stichtag",)),
        ),
    ),
    Table(
        "prozessdauer", "kennzahl_prozessdauer", "Prozessdauer",
        f"Dauer der Prozessbegleitung (Ziel {_LO}–{_HI} Monate)",
        f"Track duration (target {_LO}–{_HI} months)",
        f"Dauer von Beginn bis Abschluss in {_MONAT_DE}; {_BEGINN_DE}.",
        f"Duration from start to finish in {_MONAT_EN}; {_BEGINN_EN}.",
        (
            Column("gruppe", "text", "Gruppe", "Group",
                   "abgeschlossen bis Stichtag; abgeschlossen im Zeitraum (Abschluss im "
                   "Berichtszeitraum); laufend am Stichtag (Status aktiv, Dauer bis zum Stichtag).",
                   "finished by cut-off; finished in the period; running on the cut-off date "
                   "(duration so far)."),
            _n("kommunen", "Kommunen", "Communes", "Anzahl der Prozessbegleitungen der Gruppe.",
               "Number of tracks in the group."),
            _n("unter_ziel", f"unter {_LO} Monaten", f"under {_LO} months",
               f"Dauer unter {_LO} Monaten (laufende: bisherige Dauer).",
               f"Duration under {_LO} months (running: so far)."),
            _n("im_zielband", f"{_LO}–{_HI} Monate", f"{_LO}–{_HI} months",
               f"Dauer von {_LO} bis {_HI} Monaten (einschließlich).",
               f"Duration of {_LO} to {_HI} months (inclusive)."),
            _n("ueber_ziel", f"über {_HI} Monate", f"over {_HI} months",
               f"Dauer über {_HI} Monaten; bei laufenden: schon länger als {_HI} Monate.",
               f"Duration over {_HI} months; running: already longer than {_HI} months."),
            Column("median_monate", "decimal", "Median (Monate)", "Median (months)",
                   "Median der Dauer, eine Nachkommastelle.", "Median duration.",
                   ("kommunen",)),
            Column("anteil_im_ziel_prozent", "decimal", f"Anteil ≤ {_HI} Monate (%)",
                   f"Share ≤ {_HI} months (%)",
                   f"Anteil mit einer Dauer von höchstens {_HI} Monaten, in Prozent; bei "
                   "laufenden: bisher noch im Ziel.",
                   f"Share with a duration of at most {_HI} months, in per cent.",
                   ("kommunen",)),
        ),
    ),
    Table(
        "veranstaltungen", "kennzahl_veranstaltungen", "Veranstaltungen",
        "Veranstaltungen und Teilnehmende je Quartal", "Events and participants per quarter",
        "Je Quartal insgesamt sowie nach Modul, Format und Thema; Teilnehmende nach Sektor.",
        "Per quarter in total and by module, format and topic; participants by sector.",
        (
            Column("quartal", "text", "Quartal", "Quarter",
                   "Kalenderquartal des Termins; „Zeitraum“: ganzer Berichtszeitraum.",
                   "Calendar quarter of the event date; “Period”: the whole period."),
            Column("merkmal", "text", "Merkmal", "Attribute",
                   "Insgesamt, Modul, Format oder Thema.", "Total, module, format or topic."),
            Column("auspraegung", "text", "Ausprägung", "Value", "Wert des Merkmals.",
                   "Value of the attribute."),
            _n("veranstaltungen", "Veranstaltungen", "Events",
               "Anzahl der Veranstaltungen; eine gemeinsame Veranstaltung mehrerer Kommunen "
               "zählt einmal.", "Number of events; a shared event counts once.", ("kommunen",)),
            _n("teilnahmen", "Teilnahmen von Kommunen", "Commune participations",
               "Anzahl der Paare Kommune × Veranstaltung.",
               "Number of commune × event pairs.", ("kommunen",)),
            _n("kommunen", "Kommunen", "Communes",
               "Anzahl verschiedener Kommunen mit mindestens einer Teilnahme.",
               "Number of distinct communes taking part."),
            _n("teilnehmende", "Teilnehmende", "Participants",
               "Summe der gemeldeten Teilnehmenden.", "Sum of reported participants.",
               ("kommunen",)),
            *(
                _n(name, f"davon {de}", f"of which {en.lower()}",
                   f"Teilnehmende aus dem Sektor {de}.", f"Participants from {en.lower()}.",
                   ("kommunen",))
                for name, de, en in _SEKTOREN
            ),
            _n("ohne_sektor", "davon ohne Sektorangabe", "of which no sector given",
               "Teilnehmende minus die Summe der Sektoren.",
               "Participants minus the sum of the sectors.", ("kommunen",)),
        ),
        groups=("quartal", "merkmal"),
        public_rows=(pl.col("quartal") == "Zeitraum") & (pl.col("merkmal") != "Thema"),
    ),
    Table(
        "dialog_vernetzung", "kennzahl_dialog_vernetzung", "Vernetzung und Dialog",
        "Vernetzungsformate (Modul 2) und Dialogveranstaltungen (Modul 3)",
        "Networking formats (module 2) and dialogue events (module 3)",
        "Veranstaltungen im Berichtszeitraum, getrennt nach Modul und Format.",
        "Events in the period, by module and format.",
        (
            Column("modul", "int", "Modul", "Module", "2 = Stärkung/Vernetzung, 3 = Dialog.",
                   "2 = networking, 3 = dialogue."),
            Column("modul_bezeichnung", "text", "Modulbezeichnung", "Module name",
                   "Bezeichnung des Moduls.", "Name of the module."),
            Column("format", "text", "Format", "Format", "Format der Veranstaltung.",
                   "Event format."),
            _n("veranstaltungen", "Veranstaltungen", "Events", "Anzahl der Veranstaltungen.",
               "Number of events.", ("kommunen",)),
            _n("kommunenuebergreifend", "davon kommunenübergreifend", "of which inter-communal",
               "Veranstaltungen mit mindestens zwei teilnehmenden Kommunen.",
               "Events with at least two communes.", ("kommunen",)),
            _n("kommunen", "Kommunen", "Communes", "Anzahl verschiedener Kommunen.",
               "Number of distinct communes."),
            _n("teilnehmende", "Teilnehmende", "Participants",
               "Summe der gemeldeten Teilnehmenden.", "Sum of reported participants.",
               ("kommunen",)),
        ),
        groups=("modul",),
    ),
)
TABLE_BY_KEY: dict[str, Table] = {t.key: t for t in TABLES}
SHEETS_EN: dict[str, str] = {
    "ueberblick": "Overview", "kommunen_status": "Communes by status",
    "kommunen_merkmale": "Communes by attribute", "selbstcheck_schritte": "Self-check steps",
    "prozessdauer": "Track duration", "veranstaltungen": "Events",
    "dialog_vernetzung": "Networking and dialogue",
}

RULES_DE: tuple[tuple[str, str], ...] = (
    ("Stichtag",
     "Die Zahlen zeigen den Stand am Stichtag: Ein Meilenstein zählt nur, wenn er spätestens am "
     "Stichtag erreicht wurde; später erreichte Meilensteine gelten als nicht erreicht, später "
     "gemeldete Veranstaltungen als noch nicht gemeldet."),
    ("Berichtszeitraum",
     "„Im Zeitraum“ heißt: Datum zwischen Beginn und Ende des Berichtszeitraums (jeweils "
     "einschließlich). Liegt das Ende nach dem Stichtag, endet der Zeitraum am Stichtag."),
    ("Status am Stichtag",
     "Ein Status gilt ab dem Datum, das ihn belegt: abgeschlossen ab Abschluss, aktiv ab Beginn, "
     "aufgenommen ab Aufnahme, beworben ab Bewerbung oder Ratsbeschluss, ausgeschieden ab dem "
     "Austrittsdatum. Liegt dieses Datum nach dem Stichtag oder fehlt es in den Daten (z. B. "
     "Status abgeschlossen, aber Abschluss nur geplant), zählt die Kommune mit dem Status, den "
     "ihre bis zum Stichtag erreichten Meilensteine belegen, sonst als „noch nicht im Programm“. "
     "Nur „interessiert“ braucht keinen Beleg. Die Datenprüfung meldet Registerzeilen ohne "
     "belegendes Datum als Warnung."),
    ("Beginn", f"{_BEGINN_DE}. Derselbe Beginn gilt für Dauer, „Gestartet im Zeitraum“ und die "
     "Zeile „Beginn“ der Selbstcheck-Schritte."),
    ("Ausgeschieden",
     "Das Austrittsdatum ist die Spalte ausgeschieden_am des Registers. Ist sie leer, wird es "
     "geschätzt als geplantes Datum des ersten Meilensteins, den die Kommune nicht mehr erreicht "
     "hat (sonst ihr zuletzt erreichter Meilenstein), höchstens der Datenstand. Bis dahin zählt "
     "sie mit dem Status, den ihre Meilensteine belegen."),
    ("Teilnehmende Kommunen",
     "Kommunen mit Status aufgenommen, aktiv oder abgeschlossen am Stichtag."),
    ("Erreichte Einwohner",
     "Summe der Einwohnerzahlen (laut Register) der am Stichtag aktiven und abgeschlossenen "
     "Kommunen."),
    ("Dauer",
     f"Beginn bis Abschluss; ein Monat = 30,44 Tage. Ziel des Programms: {_LO} bis {_HI} "
     f"Monate. Gezählt wird unter {_LO}, {_LO}–{_HI} (einschließlich) und über {_HI} Monate; "
     f"laufende Prozessbegleitungen mit ihrer bisherigen Dauer bis zum Stichtag. Der Anteil "
     f"„≤ {_HI} Monate“ zählt alle Dauern von höchstens {_HI} Monaten. Abgeschlossene ohne "
     f"erreichten Beginn haben keine Dauer und fehlen hier."),
    ("Veranstaltungen",
     "Eine Veranstaltungskennung ist eine Veranstaltung, auch wenn mehrere Kommunen teilnehmen. "
     "Bekannt sind nur Zeilen, deren Datum bis zum Ende des (am Stichtag endenden) "
     "Berichtszeitraums reicht; spätere Zeilen ändern keine Veranstaltung des Zeitraums. Eine "
     "Veranstaltung zählt einmal, im Zeitraum und Quartal ihrer ersten bekannten Zeile "
     "(frühestes Datum, dann kleinster Kommunenschlüssel), mit deren Modul, Format und Thema; "
     "„kommunenübergreifend“ ist sie, wenn mindestens zwei Kommunen eine bekannte Zeile haben. "
     "Teilnehmende: Summe über alle bekannten Zeilen."),
    ("Kleine Fallzahlen",
     f"In der öffentlichen Fassung steht „{SMALL_CELL_TEXT}“ statt eines Wertes, der auf 1 oder 2 "
     f"Kommunen beruht (Anzahl, Summe, Median oder Anteil), und statt einer Anzahl, die alle "
     f"Kommunen einer Gruppe in denselben Stand setzt (z. B. „3 teilnehmend, 3 abgeschlossen“). "
     f"Weitere Werte werden ebenso als "
     f"„{SMALL_CELL_TEXT}“ verdeckt, bis eine Intervall-Prüfung (lineare Optimierung über alle "
     f"Summen, Gesamtzeilen, Merkmale, Quartale und Tabellen der Ausgabe) keinen verdeckten Wert "
     f"mehr eindeutig zurückrechnen kann, auch nicht für eine Kommune, die ihren eigenen Beitrag "
     f"kennt. Null wird als 0 gezeigt. Kommunen, die am Stichtag noch nicht aufgenommen sind "
     f"(noch nicht im Programm, interessiert, beworben), erscheinen öffentlich weder einzeln noch "
     f"in „Insgesamt“. Die interne Fassung zeigt alle Werte."),
    ("Datenschutz",
     "Die Berichte enthalten nur Summen und Anzahlen, keine Namen, Kontaktdaten, Notizen oder "
     "Selbstcheck-Einschätzungen einzelner Kommunen."),
)

RULES_EN: tuple[tuple[str, str], ...] = (
    ("Cut-off date",
     "Figures show the state on the cut-off date: a milestone counts only if reached on or "
     "before it; events reported with a later date are not counted."),
    ("Period", "“In the period”: date between start and end of the period (inclusive), ending "
     "at the cut-off date at the latest."),
    ("Status on the cut-off date",
     "A status holds from the date that proves it (completed: Completion; active: start; "
     "admitted: Admission; applied: Application or Council resolution; withdrawn: exit "
     "date). If that date is after the cut-off or missing, the commune counts with the "
     "status its reached milestones prove by then, else as “not yet in the programme”. "
     "Only “interested” needs no proof."),
    ("Start", f"{_BEGINN_EN}; the same start for duration, “started in the period” and the "
     "row “Start” of the self-check steps."),
    ("Left", "The exit date is the column ausgeschieden_am; when empty it is estimated as the "
     "planned date of the first milestone the commune did not reach any more, at most the data "
     "date."),
    ("Duration", f"Start to finish; under {_LO}, {_LO}–{_HI} and over {_HI} months; running "
     "tracks with their duration so far."),
    ("Events", "Only rows dated up to the end of the period (cut at the cut-off date) are known; "
     "an event counts once, in the period and quarter of its first known row; shared if at "
     "least two communes have a known row."),
    ("Small cells",
     f"The public version shows “{SMALL_CELL_TEXT}” instead of any figure resting on 1 or 2 "
     f"communes, and instead of a count putting every commune of a group into one state (e.g. "
     f"“3 taking part, 3 finished”); further cells are hidden the same way until an interval "
     f"audit (linear "
     f"programming over all totals, characteristics, quarters and tables of the edition) can "
     f"pin no hidden value, also for a commune knowing its own contribution. Zero shows as 0. "
     f"Communes not admitted by the cut-off date are not in the public version, not even in "
     f"the total."),
)



@dataclass(frozen=True)
class Chart:
    """One report chart: shown on the page, exported as PNG and SVG, embedded in the PDF."""

    key: str
    title_de: str
    title_en: str

    def title(self, lang: str) -> str:
        return self.title_de if lang == "de" else self.title_en


CHARTS: tuple[Chart, ...] = (
    Chart("kommunen_status", "Kommunen nach Status am Stichtag",
          "Communes by status on the cut-off date"),
    Chart("kommunen_bundesland", "Teilnehmende Kommunen nach Bundesland",
          "Participating communes by state"),
    Chart("selbstcheck_schritte", "Selbstcheck: erreichte Schritte", "Self-check: steps reached"),
    Chart("veranstaltungen_modul", "Veranstaltungen je Quartal nach Modul",
          "Events per quarter by module"),
    Chart("teilnehmende_sektor", "Teilnehmende je Quartal nach Sektor",
          "Participants per quarter by sector"),
)
CHART_BY_KEY: dict[str, Chart] = {c.key: c for c in CHARTS}
SEKTOREN: tuple[str, ...] = (*(s[0] for s in _SEKTOREN), "ohne_sektor")


def chart_data(key: str, report: Report) -> ReportTable:
    """The slice of a report table a chart shows (also its table alternative)."""
    if key == "kommunen_status":
        return report["kommunen_status"].subset(["status", "kommunen"])
    if key == "kommunen_bundesland":
        return report["kommunen_merkmale"].subset(
            ["auspraegung", "teilnehmend"], pl.col("merkmal") == "Bundesland")
    if key == "selbstcheck_schritte":
        return report["selbstcheck_schritte"].subset(["schritt", "im_zeitraum", "bis_stichtag"])
    if key == "veranstaltungen_modul":
        return report["veranstaltungen"].subset(
            ["quartal", "auspraegung", "veranstaltungen", "teilnehmende"],
            pl.col("merkmal") == "Modul")
    if key == "teilnehmende_sektor":
        return report["veranstaltungen"].subset(
            ["quartal", "teilnehmende", *SEKTOREN], pl.col("merkmal") == "Insgesamt")
    raise KeyError(key)


# ---- English row values -------------------------------------------------------------------------

# The value domain ([werte.<domain>] in dashboard/i18n) of each text column of the report tables
ROW_DOMAINS: dict[str, str] = {
    "status": "status", "merkmal": "merkmal", "schritt": "schritt", "gruppe": "dauergruppe",
    "quartal": "quartal", "modul_bezeichnung": "modul", "format": "format",
}
# "Ausprägung" takes the values of its row's Merkmal; they never collide across these domains,
# so a chart slice without the column "merkmal" is translated the same way
AUSPRAEGUNG_DOMAINS = ("typ", "groessenklasse", "bundesland", "auspraegung", "format", "thema")
_MODULE_ROW = re.compile(r"(\d+) (.+)")  # "2 Stärkung kommunaler …"


def auspraegung_text(german: str | None, lang: str) -> str | None:
    """One Ausprägung in `lang`: a commune type, size class, Land, format, topic, "alle
    Veranstaltungen" or a module row ("1 Selbstcheck" → "1 Self-check")."""
    if german is None or lang == "de":
        return german
    module = _MODULE_ROW.fullmatch(german)
    if module:
        return f"{module[1]} {value(lang, 'modul', module[2])}"
    for domain in AUSPRAEGUNG_DOMAINS[:-1]:
        names = value_names(lang, domain)
        if german in names:
            return names[german]
    return value(lang, "thema", german)  # free-text topics stay as entered


def translate_rows(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """A report frame with its German row values in `lang` (numbers and order unchanged)."""
    frame = translate_values(frame, lang, **{c: d for c, d in ROW_DOMAINS.items()
                                             if c in frame.columns})
    if "auspraegung" not in frame.columns:
        return frame
    return frame.with_columns(fmt.texts(frame["auspraegung"],
                                         lambda v: auspraegung_text(v, lang)))


# ---- small cells ---------------------------------------------------------------------------------


def suppress_small_cells(
    frame: pl.DataFrame,
    basis: Mapping[str, Sequence[str]],
    groups: Sequence[str] | None = None,
    limit: int = SMALL_CELL_LIMIT,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Hide figures that rest on fewer than `limit` communes (but not on none).

    `basis` maps each figure column to the column(s) whose sum is its number of communes. A cell
    is hidden if that number is 1 … limit-1 (primary). With `groups` (column names, `()` for the
    whole table), a group with exactly one hidden cell in a column also hides the cell with the
    smallest positive basis of that column (secondary), so the hidden value cannot be recovered
    from a published total. Returns the frame with hidden cells set to null and a boolean mask
    frame (one column per figure column, True = show `SMALL_CELL_TEXT`).
    """
    work = frame.with_row_index("_zeile")
    n = frame.height + 1
    masks: dict[str, pl.Series] = {}
    for column, basis_columns in basis.items():
        size = pl.sum_horizontal([pl.col(c).fill_null(0) for c in basis_columns])
        primary = (size > 0) & (size < limit)
        hidden = primary
        if groups is not None:
            over = list(groups) or [pl.lit(0)]
            candidate = ~primary & (size > 0)
            order_key = pl.when(candidate).then(size * n + pl.col("_zeile"))
            secondary = (primary.sum().over(over) == 1) & (order_key == order_key.min().over(over))
            hidden = primary | secondary.fill_null(False)
        masks[column] = work.select(hidden.alias(column)).to_series()
    mask = pl.DataFrame(masks) if masks else pl.DataFrame()
    shown = frame.with_columns(
        pl.when(~mask.get_column(c)).then(pl.col(c)).alias(c) for c in masks
    )
    return shown, mask


# ---- the report as handed to pages and exports ---------------------------------------------------


@dataclass(frozen=True)
class ReportTable:
    """The figures of one table; `hidden` marks small cells (None: staff, nothing hidden)."""

    table: Table
    frame: pl.DataFrame
    hidden: pl.DataFrame | None = None
    secondary: pl.DataFrame | None = None  # hidden cells that are not small themselves

    def marker(self, column: str, i: int) -> str | None:
        """What a hidden cell shows (`SMALL_CELL_TEXT`), None for a shown cell."""
        return SMALL_CELL_TEXT if bool(self.is_hidden(column)[i]) else None

    def is_hidden(self, column: str) -> pl.Series:
        """Boolean per row: True where the cell is hidden."""
        if self.hidden is None or column not in self.hidden.columns:
            return pl.Series(column, [False] * self.frame.height, dtype=pl.Boolean)
        return self.hidden.get_column(column)

    def markers(self) -> pl.DataFrame | None:
        """Per figure column the marker of each hidden cell (`x`), null where shown."""
        if self.hidden is None:
            return None
        return pl.DataFrame({c: pl.Series([self.marker(c, i) for i in range(self.frame.height)],
                                          dtype=pl.String) for c in self.hidden.columns})

    def subset(self, columns: Sequence[str], rows: pl.Expr | None = None) -> ReportTable:
        """Some rows and columns of the table (for a chart), hidden cells kept."""
        keep = pl.Series("keep", [True] * self.frame.height) if rows is None \
            else self.frame.select(rows.fill_null(False)).to_series()
        frame = self.frame.filter(keep).select(columns)
        masks = [None if m is None else m.filter(keep).select(c for c in columns
                                                               if c in m.columns)
                 for m in (self.hidden, self.secondary)]
        return ReportTable(self.table, frame, *masks)

    def spelled(self, lang: str = "de") -> pl.DataFrame:
        """The frame with headline figure keys replaced by their labels and, in English, the
        German row values (status, Merkmal and Ausprägung, step, group, …) in `lang`
        (column names kept). German returns the figures' own values."""
        frame = self.frame
        if self.table.key == "ueberblick":
            frame = frame.with_columns(pl.col("kennzahl").replace_strict(
                {f.key: f.label(lang) for f in FIGURES}, default=pl.col("kennzahl")))
        return frame if lang == "de" else translate_rows(frame, lang)

    def labelled(self, lang: str = "de") -> pl.DataFrame:
        """Frame with display labels as headers and figure names spelled out (numbers typed)."""
        return self.spelled(lang).rename({c.name: c.label(lang) for c in self.table.columns},
                                         strict=False)

    def as_text(self, lang: str = "de") -> pl.DataFrame:
        """Like `labelled`, but figure columns with hidden cells become text with `x`."""
        frame = self.labelled(lang)
        if self.hidden is None:
            return frame
        exprs = []
        for c in self.table.columns:
            if c.name not in self.hidden.columns or c.name not in self.frame.columns:
                continue
            if not self.hidden.get_column(c.name).any():
                continue
            label = c.label(lang)
            decimals = 1 if c.kind == "decimal" else 0
            text = fmt.texts(frame.get_column(label),
                             lambda v, d=decimals: fmt.number(v, d, lang))
            marks = pl.Series([self.marker(c.name, i) for i in range(self.frame.height)],
                              dtype=pl.String)
            exprs.append(pl.when(marks.is_not_null()).then(marks).otherwise(text).alias(label))
        return frame.with_columns(exprs) if exprs else frame


@dataclass(frozen=True)
class ProtectionNote:
    """What every public export says about its small-cell protection."""

    primary: int  # cells hidden because they rest on 1 or 2 communes
    secondary: int  # further cells hidden so that none can be recomputed
    audit_passed: bool
    attackers: int  # communes audited as attackers knowing their own contribution
    attackers_audited: bool = True  # False: selection above ATTACKER_LIMIT communes

    def text(self, lang: str = "de") -> str:
        if lang != "de":
            verdict = "passed" if self.audit_passed else "NOT passed: do not publish"
            who = (f"also for each of {self.attackers} communes knowing their own contribution"
                   if self.attackers_audited else
                   f"for outside readers (communes as attackers are audited up to "
                   f"{ATTACKER_LIMIT} communes in the selection)")
            return (f"Small-cell protection: no published value rests on 1 or 2 communes "
                    f"(minimum {SMALL_CELL_LIMIT}); {self.primary + self.secondary} cells hidden "
                    f"as “{SMALL_CELL_TEXT}” ({self.primary} small, {self.secondary} to protect "
                    f"them). Interval audit (linear programming) over all tables, {who}: "
                    f"{verdict}.")
        verdict = "bestanden" if self.audit_passed else "NICHT bestanden: nicht veröffentlichen"
        who = (f"auch für jede der {self.attackers} Kommunen, die ihren eigenen Beitrag kennt"
               if self.attackers_audited else
               f"für Außenstehende (Kommunen als Angreifer werden bis {ATTACKER_LIMIT} Kommunen "
               f"in der Auswahl geprüft)")
        return (f"Schutz kleiner Fallzahlen: Kein veröffentlichter Wert beruht auf 1 oder 2 "
                f"Kommunen (Mindestfallzahl {SMALL_CELL_LIMIT}); {self.primary + self.secondary} "
                f"Zellen sind als „{SMALL_CELL_TEXT}“ verdeckt ({self.primary} kleine Werte, "
                f"{self.secondary} zu deren Schutz). Intervall-Prüfung (lineare Optimierung) über "
                f"alle Tabellen, {who}: {verdict}.")


@dataclass(frozen=True)
class Report:
    """All report tables for one period and Stichtag, with the build they come from."""

    von: dt.date
    bis: dt.date
    stichtag: dt.date
    public: bool
    build: BuildInfo
    tables: dict[str, ReportTable] = field(default_factory=dict)
    erstellt_am: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(
        microsecond=0))
    protection: ProtectionNote | None = None  # public edition only

    def file_name(self, kind: str, suffix: str, lang: str = "de") -> str:
        """`weltoffene-kommune_kennzahlen_2021-01-01_2021-12-31_stichtag-2022-01-15.xlsx`:
        period and Stichtag, so files of two periods never collide (public: `_oeffentlich`;
        English files end in `_en`)."""
        tail = ("_oeffentlich" if self.public else "") + ("" if lang == "de" else "_en")
        return (f"{FILE_PREFIX}_{kind}_{self.von.isoformat()}_{self.bis_effektiv.isoformat()}"
                f"_stichtag-{self.stichtag.isoformat()}{tail}.{suffix}")

    def __getitem__(self, key: str) -> ReportTable:
        return self.tables[key]

    @property
    def bis_effektiv(self) -> dt.date:
        """The period ends at the Stichtag at the latest."""
        return min(self.bis, self.stichtag)

    def figure(self, key: str) -> tuple[float | int | None, str | None]:
        """A headline figure's value (count or value) and its marker if hidden (`x`)."""
        table = self.tables["ueberblick"]
        rows = table.frame.with_row_index("_i").filter(pl.col("kennzahl") == key)
        if rows.is_empty():
            return None, None
        row = rows.row(0, named=True)
        column = "anzahl" if row["anzahl"] is not None or table.marker("anzahl", row["_i"]) \
            else "wert"
        return row[column], table.marker(column, row["_i"])

    def figure_text(self, key: str, lang: str = "de") -> str:
        """A headline figure as the pages show it: number, `x` or `–` when empty."""
        value, marker = self.figure(key)
        if marker is not None:
            return marker
        if value is None:
            return "–"
        return fmt.number(value, 0 if isinstance(value, int) else 1, lang)


def headline_text(report: Report, lang: str = "de") -> pl.DataFrame:
    """The headline figures as three text columns (figure, value, basis) for page and PDF."""
    table = report["ueberblick"]
    rows = []
    for i, row in enumerate(table.frame.iter_rows(named=True)):
        figure = FIGURE_BY_KEY.get(row["kennzahl"])
        counted = row["anzahl"] is not None or bool(table.is_hidden("anzahl")[i])
        value = table.marker("anzahl" if counted else "wert", i) or (
            fmt.number(row["anzahl"], 0, lang) if counted else fmt.number(row["wert"], 1, lang))
        basis = table.marker("basis_kommunen", i) or fmt.number(row["basis_kommunen"], 0, lang)
        rows.append((figure.label(lang) if figure else row["kennzahl"], value, basis))
    labels = [table.table.column(c).label(lang) for c in ("kennzahl", "wert", "basis_kommunen")]
    return pl.DataFrame(rows, schema=labels, orient="row")


def validate_period(von: dt.date, bis: dt.date, stichtag: dt.date) -> None:
    """German error for an impossible period (raised before any query)."""
    if von > bis:
        raise ValueError(f"Der Berichtszeitraum beginnt ({von:%d.%m.%Y}) nach seinem Ende "
                         f"({bis:%d.%m.%Y}). Bitte die Daten tauschen.")
    if von > stichtag:
        raise ValueError(f"Der Stichtag ({stichtag:%d.%m.%Y}) liegt vor dem Beginn des "
                         f"Berichtszeitraums ({von:%d.%m.%Y}).")
