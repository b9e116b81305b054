"""Real file-system faults for tests: a full disk (a small tmpfs) and a read-only folder (a
read-only bind mount). Both need root (mount); without it the test is skipped, never faked.
chmod is no test as root, who writes through any permission bits."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"mount geht hier nicht ({proc.stderr.strip()[:200]})")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


@contextlib.contextmanager
def small_filesystem(path: Path, size: str = "64m") -> Iterator[Path]:
    """A tmpfs of `size` at `path`; `fill_up(path, keep)` then leaves only `keep` bytes free."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("braucht root und mount")
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        _umount(path)


def fill_up(path: Path, keep: int = 0) -> Path:
    """Fill the file system of `path` until at most `keep` bytes are free; returns the filler."""
    filler = path / ".fueller"
    free = shutil.disk_usage(path).free - keep
    with filler.open("wb") as fh:
        while free > 0:
            chunk = min(free, 1 << 20)
            try:
                fh.write(b"\0" * chunk)
                fh.flush()
            except OSError:
                break
            free -= chunk
    return filler


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` re-mounted read-only in place (a bind mount) for the block."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("braucht root und mount")
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        _umount(path)
