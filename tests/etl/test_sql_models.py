"""The SQL models: one file per object, named after it, built in dependency order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from etl.build import _CREATES, _layer_order, sql_files


def _created(path: Path) -> list[str]:
    return _CREATES.findall(re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8")))


def test_every_file_is_named_after_the_object_it_creates():
    for path in sql_files():
        created = [name.lower() for name in _created(path)]
        assert path.stem in created, f"{path.name} creates {created}"


def test_a_model_is_built_after_every_model_of_its_layer_it_reads():
    # across layers the layer order decides (staging → core → marts)
    order = sql_files()
    position = {(p.parent.name, name.lower()): i for i, p in enumerate(order)
                for name in _created(p)}
    for i, path in enumerate(order):
        words = set(re.findall(r"\w+", re.sub(r"--[^\n]*", "", path.read_text()).lower()))
        for layer, name in position:
            if layer == path.parent.name and name in words:
                assert position[layer, name] <= i, f"{path.name} reads {name} before it is built"


def test_order_follows_dependencies_not_file_names(tmp_path: Path):
    (tmp_path / "a_report.sql").write_text("create table a_report as select * from z_base;")
    (tmp_path / "z_base.sql").write_text("-- reads a_report in a comment only\n"
                                         "create table z_base as select 1 as x;")
    (tmp_path / "m_other.sql").write_text("create view m_other as select 2 as y;")
    files = sorted(tmp_path.glob("*.sql"))
    assert [p.name for p in _layer_order(files)] == ["m_other.sql", "z_base.sql", "a_report.sql"]


def test_a_cycle_is_reported(tmp_path: Path):
    (tmp_path / "a.sql").write_text("create table a as select * from b;")
    (tmp_path / "b.sql").write_text("create table b as select * from a;")
    with pytest.raises(RuntimeError, match="cycle"):
        _layer_order(sorted(tmp_path.glob("*.sql")))
