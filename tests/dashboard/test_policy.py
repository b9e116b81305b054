"""The role policy table (`data.COLUMN_POLICY`) as `apply_policy` enforces it, cell by cell."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard import data
from dashboard.model import Viewer

OWN, CONSENTING, REFUSING = "01001000", "02000000", "03001000"


def _frame() -> pl.DataFrame:
    rows = []
    for kid, consent in ((OWN, False), (CONSENTING, True), (REFUSING, False)):
        row = {c: f"{c}-{kid}" for c in data.COLUMN_POLICY}
        row.update(kommune_id=kid, name=f"Name {kid}", vernetzung_zustimmung=consent)
        rows.append(row)
    return pl.DataFrame(rows)


def _visible(frame: pl.DataFrame, kid: str, column: str) -> bool:
    if column not in frame.columns:
        return False
    return frame.filter(pl.col("kommune_id") == kid)[column].item() is not None


@pytest.mark.parametrize("column", [c for c in data.COLUMN_POLICY if c != "vernetzung_zustimmung"])
def test_every_guarded_column_follows_its_rule(column):
    rule = data.COLUMN_POLICY[column]
    frame = _frame()
    staff = data.apply_policy(frame, data.STAFF)
    public = data.apply_policy(frame, data.PUBLIC)
    kommune = data.apply_policy(frame, Viewer("kommune", OWN))
    assert all(_visible(staff, k, column) for k in (OWN, CONSENTING, REFUSING))
    assert column not in public.columns
    expected = {
        data.STAFF_ONLY: (False, False, False),
        data.OWN: (True, False, False),
        data.OWN_OR_CONSENTING: (True, True, False),
    }[rule]
    assert tuple(_visible(kommune, k, column) for k in (OWN, CONSENTING, REFUSING)) == expected


def test_without_a_row_owner_nothing_row_dependent_is_shown():
    frame = _frame().drop("kommune_id")
    shown = data.apply_policy(frame, Viewer("kommune", OWN))
    assert not set(shown.columns) & {c for c, r in data.COLUMN_POLICY.items()
                                     if r != data.SIGNED_IN}
    assert "name" in shown.columns


def test_public_never_sees_the_consent_flag():
    assert "vernetzung_zustimmung" not in data.apply_policy(_frame(), data.PUBLIC).columns
