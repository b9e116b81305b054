"""Small-cell protection of a public report: primary rule, secondary suppression, interval audit.

What statistical offices do for small-area count tables (cell suppression with an audit):
1. Primary rule: a figure resting on 1 or 2 communes (its basis, `definitions.Column.basis`) is
   hidden; zeros are shown. Every hidden cell shows the same mark ("x"), so a reader cannot tell
   a small value from one hidden to protect it.
2. The published cells of one table set are bound by linear relations that a reader can use:
   totals, sums over a Merkmal, the same figure on two sheets, quarters and the period total,
   sectors and participants (`relations`). For every hidden cell the audit solves two linear
   programmes (HiGHS): the smallest and the largest value the cell can take given everything
   published, the relations and what the reader knows about hidden cells. The reader is granted
   more than the mark tells: every hidden cell that is not 0 is taken as known to be at least 1
   ("zeros are shown"). A cell whose feasible interval holds a single integer is disclosed.
3. The same audit runs for every commune as the attacker: it knows its own part of each cell, so
   each hidden cell is at least that part. This is more than an outsider knows only where the
   part exceeds 1 (inhabitants, participants, events); for counts the outsider audit covers it.
4. While the audit finds a disclosed cell, one more cell is hidden (secondary suppression): from a
   relation that pins the disclosed cell, the published cell with the smallest positive value.
   Hiding a cell only widens intervals, so the loop ends; if a disclosed cell has no published
   cell tied to it, the audit fails and the note says "do not publish".

Pure module: frames in, masks out. The data layer supplies the frames (the report of all communes
and, per attacker, the report without that commune).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import highspy
import polars as pl

from dashboard.report.definitions import SMALL_CELL_LIMIT, TABLE_BY_KEY

Cell = tuple[str, int, str]  # (table key, row index, column)
Frames = Mapping[str, pl.DataFrame]

_SEKTOREN = ("verwaltung", "politik", "zivilgesellschaft", "wirtschaft", "einwohnerschaft",
             "ohne_sektor")
_EVENT_SUMS = ("veranstaltungen", "teilnahmen", "teilnehmende", *_SEKTOREN)


@dataclass(frozen=True)
class Relation:
    """sum(coefficient × cell) == 0 (`equal`) or >= 0 (not `equal`)."""

    terms: tuple[tuple[Cell, float], ...]
    equal: bool = True


@dataclass
class Protection:
    """Which cells are hidden and why, and the audit's verdict (for the protection note)."""

    primary: set[Cell] = field(default_factory=set)
    secondary: set[Cell] = field(default_factory=set)  # shown as "x": any value, also 0
    audit_passed: bool = False
    attackers: int = 0  # communes audited as attackers (those contributing to a hidden cell)
    attackers_audited: bool = True  # False: the caller skipped the attacker audit (large cohort)

    @property
    def hidden(self) -> set[Cell]:
        return self.primary | self.secondary


# ---- relations a reader can use ------------------------------------------------------------------


def _rows(frames: Frames, key: str) -> list[dict]:
    frame = frames.get(key)
    return [] if frame is None else frame.to_dicts()


def _find(rows: list[dict], **match: object) -> int | None:
    return next((i for i, r in enumerate(rows) if all(r.get(k) == v for k, v in match.items())),
                None)


def _sum_rel(total: Cell | None, parts: Iterable[Cell]) -> Relation | None:
    """total == sum(parts)."""
    parts = list(parts)
    if total is None or not parts:
        return None
    return Relation(((total, 1.0), *((p, -1.0) for p in parts)))


def relations(frames: Frames) -> list[Relation]:
    """Every linear relation between published cells of the report tables in `frames`."""
    out: list[Relation | None] = []
    head = _rows(frames, "ueberblick")

    def fig(kennzahl: str, column: str = "anzahl") -> Cell | None:
        i = _find(head, kennzahl=kennzahl)
        return None if i is None else ("ueberblick", i, column)

    # ueberblick: a count's basis is the count itself; inhabitants rest on aktiv + abgeschlossen
    for kennzahl in ("kommunen_teilnehmend", "kommunen_aktiv", "kommunen_abgeschlossen",
                     "kommunen_ausgeschieden", "tracks_gestartet", "selbstcheck_workshop",
                     "tracks_abgeschlossen", "tracks_laufend_ueber_ziel"):
        out.append(_sum_rel(fig(kennzahl), [c for c in [fig(kennzahl, "basis_kommunen")] if c]))
    for kennzahl in ("tracks_abgeschlossen", "median_dauer_monate", "anteil_im_ziel_prozent"):
        if fig(kennzahl) and fig("tracks_abgeschlossen"):
            out.append(_sum_rel(fig("tracks_abgeschlossen"), [fig(kennzahl, "basis_kommunen")]))
    out.append(_sum_rel(fig("einwohner_erreicht", "basis_kommunen"),
                        [c for c in (fig("kommunen_aktiv"), fig("kommunen_abgeschlossen")) if c]))
    out.append(_sum_rel(fig("bundeslaender", "basis_kommunen"),
                        [c for c in [fig("kommunen_teilnehmend")] if c]))

    # kommunen_status: the total row; the same figures as the headline
    status = _rows(frames, "kommunen_status")
    total = _find(status, status="Insgesamt")
    for column in ("kommunen", "einwohner"):
        if total is not None:
            out.append(_sum_rel(("kommunen_status", total, column),
                                [("kommunen_status", i, column) for i in range(len(status))
                                 if i != total]))

    def st(name: str, column: str = "kommunen") -> Cell | None:
        i = _find(status, status=name)
        return None if i is None else ("kommunen_status", i, column)

    for name, kennzahl in (("aktiv", "kommunen_aktiv"), ("abgeschlossen", "kommunen_abgeschlossen"),
                           ("ausgeschieden", "kommunen_ausgeschieden")):
        out.append(_sum_rel(fig(kennzahl), [c for c in [st(name)] if c]))
    teilnehmend = [st(s) for s in ("aufgenommen", "aktiv", "abgeschlossen")]
    if all(teilnehmend):
        out.append(_sum_rel(fig("kommunen_teilnehmend"), teilnehmend))
    erreicht = [st(s, "einwohner") for s in ("aktiv", "abgeschlossen")]
    if all(erreicht):
        out.append(_sum_rel(fig("einwohner_erreicht"), erreicht))

    # kommunen_merkmale: each Merkmal sums to the headline; a row's parts fit into its total
    merkmale = _rows(frames, "kommunen_merkmale")
    totals = {"teilnehmend": "kommunen_teilnehmend", "aktiv": "kommunen_aktiv",
              "abgeschlossen": "kommunen_abgeschlossen", "einwohner_erreicht": "einwohner_erreicht",
              "gestartet_im_zeitraum": "tracks_gestartet"}
    for merkmal in {r["merkmal"] for r in merkmale}:
        rows = [i for i, r in enumerate(merkmale) if r["merkmal"] == merkmal]
        for column, kennzahl in totals.items():
            out.append(_sum_rel(fig(kennzahl),
                                [("kommunen_merkmale", i, column) for i in rows]))
    for i in range(len(merkmale)):
        out.append(Relation(((("kommunen_merkmale", i, "teilnehmend"), 1.0),
                             (("kommunen_merkmale", i, "aktiv"), -1.0),
                             (("kommunen_merkmale", i, "abgeschlossen"), -1.0)), equal=False))

    # selbstcheck_schritte: Beginn in the period and workshops are headline figures
    schritte = _rows(frames, "selbstcheck_schritte")
    for schritt, column, kennzahl in (("Beginn", "im_zeitraum", "tracks_gestartet"),
                                      ("Workshop", "bis_stichtag", "selbstcheck_workshop")):
        i = _find(schritte, schritt=schritt)
        if i is not None:
            out.append(_sum_rel(fig(kennzahl), [("selbstcheck_schritte", i, column)]))

    # prozessdauer: the bands add up; finished and running tracks are headline figures
    dauer = _rows(frames, "prozessdauer")
    for i in range(len(dauer)):
        out.append(_sum_rel(("prozessdauer", i, "kommunen"),
                            [("prozessdauer", i, c)
                             for c in ("unter_ziel", "im_zielband", "ueber_ziel")]))
    fertig = _find(dauer, gruppe="abgeschlossen bis Stichtag")
    laufend = _find(dauer, gruppe="laufend am Stichtag")
    im_zeitraum = _find(dauer, gruppe="abgeschlossen im Zeitraum")
    if fertig is not None:
        out.append(_sum_rel(fig("tracks_abgeschlossen"), [("prozessdauer", fertig, "kommunen")]))
        if im_zeitraum is not None:
            for c in ("kommunen", "unter_ziel", "im_zielband", "ueber_ziel"):
                out.append(Relation(((("prozessdauer", fertig, c), 1.0),
                                     (("prozessdauer", im_zeitraum, c), -1.0)), equal=False))
    if laufend is not None:
        out.append(_sum_rel(fig("tracks_laufend_ueber_ziel"),
                            [("prozessdauer", laufend, "ueber_ziel")]))
        out.append(Relation(((fig("kommunen_aktiv"), 1.0),
                             (("prozessdauer", laufend, "kommunen"), -1.0)), equal=False)
                   if fig("kommunen_aktiv") else None)

    # veranstaltungen: values sum to "Insgesamt", quarters to the period, sectors to participants
    events = _rows(frames, "veranstaltungen")
    index = {(r["quartal"], r["merkmal"], r["auspraegung"]): i for i, r in enumerate(events)}
    quarters = {r["quartal"] for r in events}
    for quartal in quarters:
        total_i = index.get((quartal, "Insgesamt", "alle Veranstaltungen"))
        for merkmal in ("Modul", "Format", "Thema"):
            rows = [i for (q, m, _a), i in index.items() if q == quartal and m == merkmal]
            for column in _EVENT_SUMS:
                out.append(_sum_rel(None if total_i is None else ("veranstaltungen", total_i,
                                                                  column),
                                    [("veranstaltungen", i, column) for i in rows]))
    for (quartal, merkmal, auspraegung), i in index.items():
        if quartal == "Zeitraum":
            rows = [j for (q, m, a), j in index.items()
                    if q != "Zeitraum" and m == merkmal and a == auspraegung]
            for column in _EVENT_SUMS:
                out.append(_sum_rel(("veranstaltungen", i, column),
                                    [("veranstaltungen", j, column) for j in rows]))
        out.append(_sum_rel(("veranstaltungen", i, "teilnehmende"),
                            [("veranstaltungen", i, s) for s in _SEKTOREN]))
    gesamt = index.get(("Zeitraum", "Insgesamt", "alle Veranstaltungen"))
    if gesamt is not None:
        for column, kennzahl in (("veranstaltungen", "veranstaltungen"),
                                 ("teilnehmende", "teilnehmende")):
            out.append(_sum_rel(fig(kennzahl), [("veranstaltungen", gesamt, column)]))
    modul_rows = {a.split(" ")[0]: i for (q, m, a), i in index.items()
                  if q == "Zeitraum" and m == "Modul"}

    # dialog_vernetzung: formats of a module sum to the module's period row and headline
    dialog = _rows(frames, "dialog_vernetzung")
    for modul, kennzahl in ((2, "vernetzungsformate"), (3, "dialogveranstaltungen")):
        rows = [i for i, r in enumerate(dialog) if r["modul"] == modul]
        modul_i = modul_rows.get(str(modul))
        out.append(_sum_rel(fig(kennzahl), [("dialog_vernetzung", i, "veranstaltungen")
                                            for i in rows]))
        if modul_i is not None:
            out.append(_sum_rel(fig(kennzahl), [("veranstaltungen", modul_i, "veranstaltungen")]))
            for column in ("veranstaltungen", "teilnehmende"):
                out.append(_sum_rel(("veranstaltungen", modul_i, column),
                                    [("dialog_vernetzung", i, column) for i in rows]))
    for i, r in enumerate(dialog):
        out.append(Relation(((("dialog_vernetzung", i, "veranstaltungen"), 1.0),
                             (("dialog_vernetzung", i, "kommunenuebergreifend"), -1.0)),
                            equal=False))
        fmt_i = index.get(("Zeitraum", "Format", r["format"]))
        if fmt_i is not None:
            for column in ("veranstaltungen", "teilnehmende"):
                out.append(Relation(((("veranstaltungen", fmt_i, column), 1.0),
                                     (("dialog_vernetzung", i, column), -1.0)), equal=False))
    return [r for r in out if r is not None and all(c is not None for c, _ in r.terms)]


# ---- primary rule --------------------------------------------------------------------------------


def _value(frames: Frames, cell: Cell) -> float | None:
    key, i, column = cell
    value = frames[key][column][i]
    return None if value is None else float(value)


def figure_cells(frames: Frames) -> list[Cell]:
    """Every figure cell (a column with a basis) of the tables in `frames`."""
    return [(key, i, column) for key, frame in frames.items()
            for column in TABLE_BY_KEY[key].basis if column in frame.columns
            for i in range(frame.height)]


def _basis(frames: Frames, cell: Cell) -> float:
    key, i, column = cell
    return sum(float(frames[key][c][i] or 0) for c in TABLE_BY_KEY[key].basis[column])


def primary_cells(frames: Frames, limit: int = SMALL_CELL_LIMIT) -> set[Cell]:
    """Figures resting on 1 … limit-1 communes, and group disclosures (`group_cells`)."""
    return {cell for cell in figure_cells(frames)
            if 0 < _basis(frames, cell) < limit and _value(frames, cell) is not None
            } | group_cells(frames)


def group_cells(frames: Frames) -> set[Cell]:
    """Counts that tell every commune of a published group its state: "N of N".

    The public map lists admitted communes with Land and type, so "all 4 communes of this
    selection have finished" or "Bayern: 3 taking part, 3 finished" discloses each commune's
    status although no value rests on fewer than 3 (group disclosure). Such a count (> 0, equal to
    its group's total) is hidden like a small one: in the status table a status holding every
    commune; per Merkmal row aktiv or abgeschlossen equal to teilnehmend, or both 0 (then all are
    aufgenommen); per duration group a band holding every track; in the headline "davon aktiv"
    or "davon abgeschlossen" equal to all participating communes."""
    out: set[Cell] = set()
    status = _rows(frames, "kommunen_status")
    total = next((r["kommunen"] for r in status if r["status"] == "Insgesamt"), None)
    for i, r in enumerate(status):
        if total and r["status"] != "Insgesamt" and r["kommunen"] == total:
            out |= {("kommunen_status", i, "kommunen"), ("kommunen_status", i, "einwohner")}
    for i, r in enumerate(_rows(frames, "kommunen_merkmale")):
        teilnehmend = r["teilnehmend"] or 0
        if teilnehmend <= 0:
            continue
        parts = ("aktiv", "abgeschlossen")
        if not any(r[c] for c in parts):  # all of the row are aufgenommen
            out |= {("kommunen_merkmale", i, c) for c in parts}
        out |= {("kommunen_merkmale", i, c) for c in parts if r[c] == teilnehmend}
    for i, r in enumerate(_rows(frames, "prozessdauer")):
        n = r["kommunen"] or 0
        out |= {("prozessdauer", i, c) for c in ("unter_ziel", "im_zielband", "ueber_ziel")
                if n > 0 and r[c] == n}
    head = _rows(frames, "ueberblick")
    counts = {r["kennzahl"]: (i, r["anzahl"]) for i, r in enumerate(head)}
    teilnehmend = counts.get("kommunen_teilnehmend", (None, None))[1]
    for key in ("kommunen_aktiv", "kommunen_abgeschlossen"):
        if key in counts and teilnehmend and counts[key][1] == teilnehmend:
            out.add(("ueberblick", counts[key][0], "anzahl"))
    return out


def _bounds(frames: Frames, cell: Cell) -> tuple[float, float]:
    """What a reader is assumed to know about a hidden cell ("x"): zeros are published, so a
    hidden cell that is not 0 is at least 1. Nothing bounds it from above but the relations.
    (Generous to the reader: a hidden 0 is not known to be 0, but a hidden positive cell is
    treated as known to be positive.)"""
    return (1.0 if (_value(frames, cell) or 0.0) >= 1 else 0.0), math.inf


def intervals(frames: Frames, rels: list[Relation], hidden: set[Cell],
              own: Mapping[Cell, float] | None = None, check: set[Cell] | None = None,
              full: Frames | None = None) -> dict[Cell, tuple[float, float]]:
    """Feasible interval of every hidden cell given the published cells and the relations.

    With `own` (an attacker's own contribution per cell), `frames` are the figures without the
    attacker, `full` those with it, and the intervals are those of the other communes' part.
    """
    own = own or {}
    cols = sorted(hidden)
    if not cols:
        return {}
    col_of = {c: j for j, c in enumerate(cols)}
    lower, upper = [], []
    for c in cols:
        lo, hi = _bounds(full if full is not None else frames, c)
        lower.append(max(0.0, lo - own.get(c, 0.0)))
        upper.append(hi - own.get(c, 0.0))
    starts, index, values, row_lo, row_hi = [0], [], [], [], []
    for rel in rels:
        coefs: dict[int, float] = {}
        constant = 0.0
        for cell, coef in rel.terms:
            if cell in col_of:
                coefs[col_of[cell]] = coefs.get(col_of[cell], 0.0) + coef
            else:
                constant += coef * (_value(frames, cell) or 0.0)
        if not any(coefs.values()):
            continue
        index += list(coefs)
        values += list(coefs.values())
        starts.append(len(index))
        row_lo.append(-constant)
        row_hi.append(-constant if rel.equal else highspy.kHighsInf)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addVars(len(cols), [lo for lo in lower], [inf if math.isinf(u) else u for u in upper])
    if row_lo:
        h.addRows(len(row_lo), row_lo, row_hi, len(index), starts[:-1], index, values)
    result: dict[Cell, tuple[float, float]] = {}
    for j, cell in enumerate(cols):
        if check is not None and cell not in check:
            continue
        bounds = []
        for sense in (highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize):
            h.changeObjectiveSense(sense)
            h.changeColsCost(len(cols), list(range(len(cols))),
                             [1.0 if k == j else 0.0 for k in range(len(cols))])
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kUnknown:  # a warm start gone wrong: cold
                h.clearSolver()
                h.run()
                status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                bounds.append(h.getInfo().objective_function_value)
            elif status in (highspy.HighsModelStatus.kUnbounded,
                            highspy.HighsModelStatus.kUnboundedOrInfeasible):
                bounds.append(-math.inf if sense == highspy.ObjSense.kMinimize else math.inf)
            else:  # infeasible: published figures contradict the bounds; treat as exposed
                bounds.append(_value(frames, cell) or 0.0)
            true = _value(frames, cell) or 0.0  # with `own`: the others' part already
            if sense == highspy.ObjSense.kMaximize and bounds[0] >= true + 1 - 1e-6:
                bounds.append(-math.inf)  # already more than one value: no need for the minimum
                break
        result[cell] = (bounds[1], bounds[0])
    return result


def single_valued(interval: tuple[float, float], eps: float = 1e-6) -> bool:
    """True if only one integer lies in the interval (all figures in relations are integers)."""
    lo, hi = interval
    if math.isinf(lo) or math.isinf(hi):
        return False
    return math.floor(hi + eps) - math.ceil(lo - eps) < 1


def components(rels: list[Relation], hidden: set[Cell]) -> list[set[Cell]]:
    """Hidden cells grouped by the relations that tie them together (independent LPs)."""
    parent = {c: c for c in hidden}

    def root(c: Cell) -> Cell:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for rel in rels:
        cells = [c for c, _ in rel.terms if c in parent]
        for other in cells[1:]:
            parent[root(other)] = root(cells[0])
    groups: dict[Cell, set[Cell]] = {}
    for c in hidden:
        groups.setdefault(root(c), set()).add(c)
    return list(groups.values())


def _totals(rels: list[Relation]) -> set[Cell]:
    """Cells that are the sum of several others (totals, headline figures): hidden last, as
    statistical offices keep marginal totals published where they can."""
    return {rel.terms[0][0] for rel in rels
            if rel.equal and len(rel.terms) > 2 and rel.terms[0][1] > 0} | {
        c for rel in rels for c, _ in rel.terms if c[0] == "ueberblick"}


def _pick_secondary(frames: Frames, rels: list[Relation], cell: Cell, hidden: set[Cell],
                    near: set[Cell] | None = None, avoid: set[Cell] | None = None
                    ) -> Cell | None:
    """The published cell with the smallest positive value in a relation holding `cell` (or,
    with `near`, any of those cells); a cell in `avoid` (a total) only if nothing else fits."""
    near = near or {cell}
    avoid = avoid or set()
    best: tuple[bool, float, Cell] | None = None
    for rel in rels:  # an inequality can pin a cell too (a row's parts within its total)
        if not near & {c for c, _ in rel.terms}:
            continue
        for other, _coef in rel.terms:
            if other in hidden:
                continue
            value = _value(frames, other) or 0.0
            rank = (other in avoid, value if value > 0 else 1e18, other)
            if best is None or rank < best:
                best = rank
    return None if best is None else best[2]


def protect(frames: Frames, attackers: Callable[[], Iterable[tuple[str, Frames]]] | None = None,
            limit: int = SMALL_CELL_LIMIT, max_rounds: int = 200) -> Protection:
    """Primary cells plus secondary cells until the audit passes for outsiders and attackers.

    `attackers()` yields (kommune_id, frames of the report without that commune). An attacker's
    feasible set is the outsider's with every hidden cell at least its own contribution, so only
    communes that contribute to a hidden cell are audited, each on the tied cells it touches.
    Hiding a further cell only widens every interval, so a cell once found safe stays safe and is
    not solved again.
    """
    rels = relations(frames)
    avoid = _totals(rels)
    result = Protection(primary=primary_cells(frames, limit))
    others = [(k, align(without, frames)) for k, without in (attackers() if attackers else [])]
    safe: dict[str | None, set[Cell]] = {}
    for _ in range(max_rounds):
        _hide_singletons(frames, rels, result, avoid)
        disclosed = _disclosed(frames, rels, result, others, safe)
        if not disclosed:
            result.audit_passed = True
            return result
        added = False
        for cell in disclosed:  # cells found together: an earlier pick may already free one
            extra = _pick_secondary(frames, rels, cell, result.hidden, avoid=avoid) or \
                _pick_secondary(frames, rels, cell, result.hidden,
                                _tied(rels, cell, result.hidden), avoid)
            if extra is not None:
                result.secondary.add(extra)
                added = True
        if not added:  # nothing published is tied to them: hiding more cannot help
            return result  # audit_passed stays False; the note says "do not publish"
    return result


def _tied(rels: list[Relation], cell: Cell, hidden: set[Cell]) -> set[Cell]:
    """The hidden cells tied to `cell` through relations (its component)."""
    for group in components(rels, hidden):
        if cell in group:
            return group
    return {cell}


def _hide_singletons(frames: Frames, rels: list[Relation], result: Protection,
                     avoid: set[Cell]) -> None:
    """The obvious cases without an LP: an equation with a single hidden cell gives it away."""
    hidden_now = result.hidden
    changed = True
    while changed:
        changed = False
        for rel in rels:
            if not rel.equal:
                continue
            hidden = [c for c, _ in rel.terms if c in hidden_now]
            if len(hidden) == 1:
                extra = _pick_secondary(frames, [rel], hidden[0], hidden_now, avoid=avoid)
                if extra is not None:
                    result.secondary.add(extra)
                    hidden_now.add(extra)
                    changed = True


def _disclosed(frames: Frames, rels: list[Relation], result: Protection,
               others: list[tuple[str, Frames]], safe: dict[str | None, set[Cell]]
               ) -> list[Cell]:
    """Hidden cells with a single-valued interval: for outsiders first, else for one attacker.

    An attacker (a commune) knows its own part of every cell, so its feasible set is the
    outsider's with each hidden cell at least that part: it can learn more only where its part
    exceeds the outsider's lower bound (never for a count, where both are 1)."""
    hidden = result.hidden
    groups = components(rels, hidden)
    known = safe.setdefault(None, set())
    found = []
    for group in groups:
        for cell, interval in intervals(frames, rels, group, check=group - known).items():
            (found.append if single_valued(interval) else known.add)(cell)
    if found:
        return found
    result.attackers = 0
    for kommune, without in others:
        own = {c: (_value(frames, c) or 0.0) - (_value(without, c) or 0.0) for c in hidden}
        if not any(own.values()):
            continue
        result.attackers += 1
        raised = {c for c in hidden if own[c] > _bounds(frames, c)[0]}
        touched = [g for g in groups if g & raised]
        if not touched:
            continue
        cells = set().union(*touched)
        known = safe.setdefault(kommune, set())
        for cell, interval in intervals(without, rels, cells, own, check=cells - known,
                                        full=frames).items():
            (found.append if single_valued(interval) else known.add)(cell)
        if found:
            return found
    return []


def align(without: Frames, frames: Frames) -> dict[str, pl.DataFrame]:
    """`without` re-indexed onto the rows of `frames` (rows matched by their descriptive
    columns; a row missing in `without` has zeros)."""
    out = {}
    for key, frame in frames.items():
        other = without.get(key)
        keys = [c.name for c in TABLE_BY_KEY[key].columns if not c.basis]
        figures = [c for c in frame.columns if c not in keys]
        if other is None:
            out[key] = frame.with_columns(pl.lit(0).alias(c) for c in figures)
            continue
        joined = frame.select(keys).join(other.select(keys + figures), on=keys, how="left",
                                         nulls_equal=True, maintain_order="left")
        out[key] = joined.with_columns(pl.col(c).fill_null(0) for c in figures
                                       if joined[c].dtype.is_integer())
    return out


def masks(frames: Frames, protection: Protection) -> dict[str, tuple[pl.DataFrame,
                                                                      pl.DataFrame]]:
    """Per table: (hidden mask, secondary mask), one boolean column per figure column."""
    out = {}
    for key, frame in frames.items():
        columns = [c for c in TABLE_BY_KEY[key].basis if c in frame.columns]
        hidden = {c: [(key, i, c) in protection.hidden for i in range(frame.height)]
                  for c in columns}
        secondary = {c: [(key, i, c) in protection.secondary for i in range(frame.height)]
                     for c in columns}
        schema = dict.fromkeys(columns, pl.Boolean)
        out[key] = (pl.DataFrame(hidden, schema=schema), pl.DataFrame(secondary, schema=schema))
    return out
