"""Run a command in a child process and report its wall time, CPU time and peak memory (RSS)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_mib: float
    returncode: int
    cpu_seconds: float = 0.0  # user + sys of the child and its threads


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Measurement:
    """Wall time, CPU time and peak RSS of `cmd` (os.wait4 gives that child's own rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}): {proc.stderr.read().decode()[-800:]}")
    return Measurement(seconds, usage.ru_maxrss / 1024, code, usage.ru_utime + usage.ru_stime)


def median_of(runs: int, cmd: list[str]) -> Measurement:
    """Median wall time (and the largest peak memory) over `runs` runs."""
    results = sorted((measure(cmd) for _ in range(runs)), key=lambda m: m.seconds)
    return Measurement(results[len(results) // 2].seconds, max(r.peak_mib for r in results), 0)


# what dashboard.warmup logs once the default views' caches are filled
WARM_MARK = "Caches vorgewärmt"


def wait_warm(log: Path, timeout: float = 600) -> None:
    """Until the server writing `log` reports its background warm-up done (dashboard.warmup):
    runs before that find the caches empty and measure the start, not the page."""
    deadline = time.monotonic() + timeout
    while WARM_MARK not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"warm-up did not finish within {timeout} s ({log})")
        time.sleep(0.2)
