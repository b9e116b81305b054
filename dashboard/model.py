"""The small value types every layer shares: who is looking, which filters apply, which build.

They live apart from `dashboard.data` so that modules the data layer uses (report definitions,
peer engine) can name them without importing the data layer back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, Literal

import polars as pl

Role = Literal["staff", "kommune", "public"]
ROLES: tuple[Role, ...] = ("staff", "kommune", "public")


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the role and, for role `kommune`, the own commune's key."""

    role: Role
    kommune_id: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "kommune" and not self.kommune_id:
            raise ValueError("role 'kommune' needs a kommune_id")

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    def owns(self, kommune_id: str | None) -> bool:
        """True for the contact person of this very commune (never for staff or the public)."""
        return self.role == "kommune" and kommune_id is not None and self.kommune_id == kommune_id


STAFF = Viewer("staff")
PUBLIC = Viewer("public")


@dataclass(frozen=True)
class Filters:
    """Shared page filters; an empty tuple means "all"."""

    bundesland: tuple[str, ...] = ()
    typ: tuple[str, ...] = ()
    groessenklasse: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    start_quartal: tuple[str, ...] = ()

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        """SQL condition and parameters on mart_kommune columns (`alias.` prefix if given)."""
        prefix = f"{alias}." if alias else ""
        clauses, params = ["true"], []
        for f in fields(self):
            values = getattr(self, f.name)
            if values:
                clauses.append(f"list_contains(?, {prefix}{f.name})")
                params.append(list(values))
        return " and ".join(clauses), params

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


NO_FILTERS = Filters()


@dataclass(frozen=True)
class BuildInfo:
    build_id: str
    erstellt_am: dt.datetime
    datenstand: dt.date
    beispieldaten: bool
    bezeichnung: str
    dateien: pl.DataFrame
    eingabe: str = ""  # the input folder the build was made from (as the ETL recorded it)


@dataclass(frozen=True)
class ProgrammeRules:
    """The programme's constants as the shown build recorded them (its `ref_*` tables), so a
    rolled-back version shows its own rules: target band, module names, Handlungsfelder."""

    ziel_monate: tuple[int, int]
    module: dict[int, str]
    handlungsfelder: tuple[str, ...]
