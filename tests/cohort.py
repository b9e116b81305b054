"""Small hand-made input folders as text, so no binary fixture is committed.

The cohort includes hostile values on purpose: umlauts, an AGS with a leading zero, HTML in a
name and a formula-like name.
"""

from __future__ import annotations

from pathlib import Path

KOMMUNEN = """\
kommune_id;name;typ;bundesland;kreis;einwohner;lat;lon;status;start_geplant;ansprechperson;email;telefon;vernetzung_zustimmung;voraussetzung_ansprechperson;voraussetzung_leitung;voraussetzung_prozesse;voraussetzung_wissensteilung;notiz
01001000;Flensburg;kreisfreie Stadt;Schleswig-Holstein;Flensburg;89.934;54,78431;9,43961;abgeschlossen;01.02.2020;Frida Fiktiv;frida@example.org;0000 1;ja;ja;ja;ja;ja;
05766020;Lemgo;Stadt;Nordrhein-Westfalen;Lippe;40.696;52,02776;8,90061;aktiv;01.10.2021;Lars Erfunden;lars@example.org;0000 2;nein;ja;ja;nein;ja;Notiz intern
09162000;München <script>alert(1)</script>;kreisfreie Stadt;Bayern;München;1.488.202;48,13743;11,57549;aktiv;01.06.2021;Mia Muster;mia@example.org;;ja;ja;ja;ja;ja;
03159;=SUM(1) Göttingen;Landkreis;Niedersachsen;Göttingen;328.074;51,5413;9,9158;ausgeschieden;01.03.2021;;;;nein;ja;nein;ja;ja;
"""

MEILENSTEINE = """\
kommune_id;meilenstein;geplant_am;erreicht_am;notiz
01001000;Aufnahme;01.02.2020;03.02.2020;
01001000;Erstgespräch;15.02.2020;15.02.2020;
01001000;Fragebogen;15.03.2020;20.03.2020;
01001000;Auswertung;15.04.2020;10.04.2020;
01001000;Workshop;15.05.2020;02.06.2020;
01001000;Abschluss;31.07.2020;30.07.2020;
05766020;Erstgespräch;01.10.2021;05.10.2021;
05766020;Fragebogen;01.11.2021;;
05766020;Auswertung;01.12.2021;;
05766020;Workshop;15.01.2022;;
05766020;Abschluss;31.03.2022;;
09162000;Erstgespräch;01.06.2021;01.06.2021;
09162000;Fragebogen;01.07.2021;10.07.2021;
09162000;Auswertung;01.08.2021;01.08.2021;
09162000;Workshop;01.09.2021;;
09162000;Abschluss;30.11.2021;;
03159;Erstgespräch;01.03.2021;02.03.2021;
03159;Fragebogen;01.04.2021;;
"""

MODULNUTZUNG = """\
kommune_id;veranstaltung_id;modul;format;thema;datum;teilnehmende;verwaltung;politik;zivilgesellschaft;wirtschaft;einwohnerschaft
01001000;V1;1;Erstgespräch;;15.02.2020;4;4;0;0;0;0
01001000;V2;2;Webinar;Kommunikation und Konfliktmanagement;10.03.2020;6;3;1;2;0;0
09162000;V2;2;Webinar;Kommunikation und Konfliktmanagement;10.03.2020;9;5;2;2;0;0
09162000;V3;3;Dialogveranstaltung;Zusammenhalt und Begegnung;20.09.2021;40;5;5;10;5;15
05766020;V4;1;Erstgespräch;;05.10.2021;3;3;;;;
"""

SELBSTCHECK = """\
kommune_id;handlungsfeld;stand;prioritaet;erhoben_am
01001000;Management und Steuerung;3;nein;20.03.2020
01001000;Engagement und Beteiligung;2;ja;20.03.2020
01001000;Kommunikation und Konfliktmanagement;4;ja;20.03.2020
09162000;Engagement und Beteiligung;4;ja;10.07.2021
09162000;Kommunikation und Konfliktmanagement;2;ja;10.07.2021
"""

DATENSTAND = "2021-12-15"


def write_cohort(directory: Path, **overrides: str) -> Path:
    """Write the small cohort into `directory`; `overrides` replace a file's text by entity name."""
    directory.mkdir(parents=True, exist_ok=True)
    texts = {
        "kommunen": KOMMUNEN,
        "meilensteine": MEILENSTEINE,
        "modulnutzung": MODULNUTZUNG,
        "selbstcheck": SELBSTCHECK,
    }
    texts.update(overrides)
    for name, text in texts.items():
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    (directory / "quelle.toml").write_text(f'datenstand = "{DATENSTAND}"\n', encoding="utf-8")
    return directory
