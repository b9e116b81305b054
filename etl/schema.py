"""Input schema: the one source of truth for the files programme staff keep.

Every column the ETL reads is declared here with its type, whether it is required, the allowed
values and a German description with a short English gloss. `data/README.md` is generated from
this module (`python -m etl docs`), and a test fails when the two drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "ags", "int", "decimal", "date", "bool", "enum", "email"]

BUNDESLAENDER: tuple[str, ...] = (
    "Baden-Württemberg",
    "Bayern",
    "Berlin",
    "Brandenburg",
    "Bremen",
    "Hamburg",
    "Hessen",
    "Mecklenburg-Vorpommern",
    "Niedersachsen",
    "Nordrhein-Westfalen",
    "Rheinland-Pfalz",
    "Saarland",
    "Sachsen",
    "Sachsen-Anhalt",
    "Schleswig-Holstein",
    "Thüringen",
)

KOMMUNE_TYPEN: tuple[str, ...] = ("Gemeinde", "Stadt", "kreisfreie Stadt", "Landkreis")

STATUS: tuple[str, ...] = (
    "interessiert",
    "beworben",
    "aufgenommen",
    "aktiv",
    "abgeschlossen",
    "ausgeschieden",
)

# Order matters: it is the order of the track, used for funnels and "next milestone".
MEILENSTEINE: tuple[str, ...] = (
    "Bewerbung",
    "Ratsbeschluss",
    "Aufnahme",
    "Erstgespräch",
    "Fragebogen",
    "Auswertung",
    "Workshop",
    "Abschluss",
)

FORMATE: tuple[str, ...] = (
    "Erstgespräch",
    "Workshop",
    "Webinar",
    "Vernetzungstreffen",
    "Dialogveranstaltung",
    "Beratung",
)

MODULE: dict[int, str] = {
    1: "Selbstcheck",
    2: "Stärkung kommunaler Entscheidungsträger*innen",
    3: "Dialogveranstaltungen",
}

HANDLUNGSFELDER: tuple[str, ...] = (
    "Management und Steuerung",
    "Interkulturelle Öffnung und Antirassismus",
    "Fairer Zugang und Teilhabechancen",
    "Arbeit und wirtschaftliche Entwicklung",
    "Engagement und Beteiligung",
    "Zusammenhalt und Begegnung",
    "Kommunikation und Konfliktmanagement",
)

SEKTOREN: tuple[str, ...] = (
    "verwaltung",
    "politik",
    "zivilgesellschaft",
    "wirtschaft",
    "einwohnerschaft",
)

# Plausibility bounds (one place; validation and docs read them from here).
DATE_MIN = "2018-01-01"
DATE_MAX = "2030-12-31"
LAT_RANGE = (47.2, 55.1)
LON_RANGE = (5.8, 15.1)


@dataclass(frozen=True)
class Column:
    """One input column: its name, type and rules, documented in German with an English gloss."""

    name: str
    type: ColumnType
    required: bool
    description: str
    gloss: str
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    example: str = ""


@dataclass(frozen=True)
class Entity:
    """One input file (one table) with its columns and key."""

    name: str
    description: str
    gloss: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references_kommune: bool = False
    extra_rules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_KOMMUNE_ID = Column(
    "kommune_id",
    "ags",
    True,
    "Amtlicher Gemeindeschlüssel (8 Stellen) bzw. Kreisschlüssel (5 Stellen) oder ARS (12 Stellen),"
    " immer als Text mit führenden Nullen",
    "official municipality/district key, text with leading zeros",
    example="05766020",
)

KOMMUNEN = Entity(
    name="kommunen",
    description="Register der Modellkommunen, eine Zeile je Kommune",
    gloss="registry of model communes, one row per commune",
    key=("kommune_id",),
    columns=(
        _KOMMUNE_ID,
        Column("name", "text", True, "Name der Kommune", "name", example="Lemgo"),
        Column(
            "typ", "enum", True, "Art der Kommune", "type", allowed=KOMMUNE_TYPEN, example="Stadt"
        ),
        Column(
            "bundesland",
            "enum",
            True,
            "Bundesland",
            "federal state",
            allowed=BUNDESLAENDER,
            example="Nordrhein-Westfalen",
        ),
        Column(
            "kreis", "text", False, "Landkreis bzw. kreisfreie Stadt", "district", example="Lippe"
        ),
        Column(
            "einwohner",
            "int",
            True,
            "Einwohnerzahl (ganze Zahl, ≥ 1)",
            "population",
            minimum=1,
            example="40.696",
        ),
        Column(
            "lat",
            "decimal",
            True,
            "Geografische Breite (WGS84, Dezimalgrad)",
            "latitude",
            minimum=LAT_RANGE[0],
            maximum=LAT_RANGE[1],
            example="52,02776",
        ),
        Column(
            "lon",
            "decimal",
            True,
            "Geografische Länge (WGS84, Dezimalgrad)",
            "longitude",
            minimum=LON_RANGE[0],
            maximum=LON_RANGE[1],
            example="8,90061",
        ),
        Column(
            "status",
            "enum",
            True,
            "Stand der Teilnahme",
            "participation status",
            allowed=STATUS,
            example="aktiv",
        ),
        Column(
            "start_geplant",
            "date",
            False,
            "Geplanter Start der Prozessbegleitung",
            "planned start of the track",
            example="01.03.2021",
        ),
        Column(
            "ausgeschieden_am",
            "date",
            False,
            "Datum des Ausscheidens (nur bei Status ausgeschieden; leer = wird aus dem Zeitplan"
            " geschätzt)",
            "date the commune left (status ausgeschieden only; empty = estimated from the"
            " timeline)",
            example="",
        ),
        Column(
            "ansprechperson",
            "text",
            False,
            "Feste Ansprechperson in der Verwaltung (personenbezogen)",
            "contact person (personal data)",
            example="Erika Beispiel (fiktiv)",
        ),
        Column(
            "email",
            "email",
            False,
            "E-Mail der Ansprechperson (personenbezogen)",
            "contact e-mail (personal data)",
            example="erika.beispiel@example.org",
        ),
        Column(
            "telefon",
            "text",
            False,
            "Telefon der Ansprechperson (personenbezogen)",
            "contact phone (personal data)",
            example="0000 000000",
        ),
        Column(
            "vernetzung_zustimmung",
            "bool",
            False,
            "Zustimmung, anderen Modellkommunen als Kontakt angezeigt zu werden"
            " (ja/nein; leer = nein)",
            "consent to be shown to peers (yes/no; empty = no)",
            example="ja",
        ),
        Column(
            "voraussetzung_ansprechperson",
            "bool",
            False,
            "Feste Ansprechperson für 4–6 Monate zugesagt",
            "fixed contact person confirmed",
            example="ja",
        ),
        Column(
            "voraussetzung_leitung",
            "bool",
            False,
            "Unterstützung durch die Verwaltungsspitze zugesagt",
            "leadership support confirmed",
            example="ja",
        ),
        Column(
            "voraussetzung_prozesse",
            "bool",
            False,
            "Bestehende Integrations-/Vielfaltsprozesse zum Andocken vorhanden",
            "existing integration processes",
            example="nein",
        ),
        Column(
            "voraussetzung_wissensteilung",
            "bool",
            False,
            "Bereitschaft, Wissen und Erfahrungen zu teilen",
            "willingness to share knowledge",
            example="ja",
        ),
        Column(
            "notiz",
            "text",
            False,
            "Interne Notiz des Programmteams (nur intern sichtbar)",
            "internal staff note",
            example="",
        ),
    ),
)

MEILENSTEINE_ENTITY = Entity(
    name="meilensteine",
    description="Zeitplan je Kommune: geplante und erreichte Meilensteine,"
    " eine Zeile je Meilenstein",
    gloss="timeline per commune: planned and reached milestones, one row per milestone",
    key=("kommune_id", "meilenstein"),
    references_kommune=True,
    extra_rules=("Mindestens eines der Felder geplant_am oder erreicht_am ist gefüllt.",),
    columns=(
        _KOMMUNE_ID,
        Column(
            "meilenstein",
            "enum",
            True,
            "Meilenstein im Ablauf",
            "milestone",
            allowed=MEILENSTEINE,
            example="Erstgespräch",
        ),
        Column(
            "geplant_am", "date", False, "Geplantes Datum", "planned date", example="15.03.2021"
        ),
        Column(
            "erreicht_am",
            "date",
            False,
            "Tatsächliches Datum (leer = noch offen; nicht nach dem Datenstand)",
            "date reached (empty = open; not after the data date)",
            example="22.03.2021",
        ),
        Column(
            "notiz",
            "text",
            False,
            "Interne Notiz (nur intern sichtbar)",
            "internal note",
            example="",
        ),
    ),
)

MODULNUTZUNG = Entity(
    name="modulnutzung",
    description="Teilnahme an Veranstaltungen der Module; eine Zeile je Kommune und Veranstaltung",
    gloss="module uptake: one row per commune and event (an event can serve several communes)",
    key=("kommune_id", "veranstaltung_id"),
    references_kommune=True,
    extra_rules=("Die Summe der Sektoren-Zahlen ist nicht größer als teilnehmende.",),
    columns=(
        _KOMMUNE_ID,
        Column(
            "veranstaltung_id",
            "text",
            True,
            "Kennung der Veranstaltung (gleiche Kennung = gemeinsame Veranstaltung)",
            "event id (same id = shared event)",
            example="V-2021-017",
        ),
        Column(
            "modul",
            "enum",
            True,
            "Modul (1 Selbstcheck, 2 Stärkung, 3 Dialog)",
            "module",
            allowed=("1", "2", "3"),
            example="2",
        ),
        Column(
            "format",
            "enum",
            True,
            "Format der Veranstaltung",
            "format",
            allowed=FORMATE,
            example="Webinar",
        ),
        Column(
            "thema",
            "text",
            False,
            "Thema (z. B. ein Handlungsfeld)",
            "topic",
            example="Kommunikation und Konfliktmanagement",
        ),
        Column(
            "datum", "date", True, "Datum der Veranstaltung", "event date", example="04.05.2021"
        ),
        Column(
            "teilnehmende",
            "int",
            True,
            "Teilnehmende aus dieser Kommune (≥ 0)",
            "participants from this commune",
            minimum=0,
            example="12",
        ),
        *(
            Column(
                s, "int", False, f"Davon aus dem Sektor {label} (≥ 0)", gloss, minimum=0, example=ex
            )
            for s, label, gloss, ex in (
                ("verwaltung", "Verwaltung", "of which administration", "5"),
                ("politik", "Politik", "of which politics", "2"),
                ("zivilgesellschaft", "Zivilgesellschaft", "of which civil society", "3"),
                ("wirtschaft", "Wirtschaft", "of which business", "1"),
                ("einwohnerschaft", "Einwohnerschaft", "of which residents", "1"),
            )
        ),
    ),
)

SELBSTCHECK = Entity(
    name="selbstcheck",
    description="Ergebnisse des Selbstchecks: eine Zeile je Kommune und Handlungsfeld."
    " Kein Ranking-Instrument: nur für das Programmteam und die eigene Kommune sichtbar",
    gloss="self-assessment results, one row per commune and field of action (never a ranking)",
    key=("kommune_id", "handlungsfeld"),
    references_kommune=True,
    columns=(
        _KOMMUNE_ID,
        Column(
            "handlungsfeld",
            "enum",
            True,
            "Handlungsfeld",
            "field of action",
            allowed=HANDLUNGSFELDER,
            example="Engagement und Beteiligung",
        ),
        Column(
            "stand",
            "int",
            True,
            "Selbst eingeschätzter Stand (1 bis 4)",
            "self-assessed level 1–4",
            minimum=1,
            maximum=4,
            example="3",
        ),
        Column(
            "prioritaet",
            "bool",
            True,
            "Will die Kommune hier weiterarbeiten? (ja/nein)",
            "priority: the commune wants to work on this",
            example="ja",
        ),
        Column(
            "erhoben_am",
            "date",
            True,
            "Datum der Erhebung",
            "date of assessment",
            example="10.04.2021",
        ),
    ),
)

ENTITIES: tuple[Entity, ...] = (KOMMUNEN, MEILENSTEINE_ENTITY, MODULNUTZUNG, SELBSTCHECK)
ENTITY_BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}

# Optional file in the input folder with build settings (TOML), e.g. the data date of demo data.
SOURCE_FILE = "quelle.toml"

# Size classes by population (label, from inclusive, to exclusive; None = open end).
GROESSENKLASSEN: tuple[tuple[str, int, int | None], ...] = (
    ("unter 5.000 EW", 0, 5_000),
    ("5.000–19.999 EW", 5_000, 20_000),
    ("20.000–99.999 EW", 20_000, 100_000),
    ("100.000–499.999 EW", 100_000, 500_000),
    ("500.000 EW und mehr", 500_000, None),
)

# Each commune's own track should last 4 to 6 months (programme target).
ZIEL_MONATE: tuple[int, int] = (4, 6)
