"""`python -m bench.profserve [dashboard.serve options]`: the deployed server, each script run
under cProfile.

Starts exactly what `python -m dashboard.serve` starts; with `$WK_PROFILE` set (a file path) every
script run (Streamlit's `ScriptRunner._run_script`: the page script, the element serialisation
and the garbage collection after it) runs under cProfile, accumulated until SIGUSR1 writes
the statistics to `$WK_PROFILE` (pstats format) and starts afresh. Used by bench/runcost.py.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
import threading

_lock = threading.Lock()
_profiles: list[cProfile.Profile] = []


def _patch() -> None:
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script

    def profiled(self, *args, **kwargs):
        profile = cProfile.Profile()
        profile.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            profile.disable()
            with _lock:
                _profiles.append(profile)

    script_runner.ScriptRunner._run_script = profiled


def _dump(signum, frame) -> None:
    import pstats

    with _lock:
        profiles = list(_profiles)
        _profiles.clear()
    if not profiles:
        open(os.environ["WK_PROFILE"], "wb").close()
        return
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    stats.dump_stats(os.environ["WK_PROFILE"])


if __name__ == "__main__":
    if os.environ.get("WK_PROFILE"):
        _patch()
        signal.signal(signal.SIGUSR1, _dump)
    from dashboard import serve

    serve.main(sys.argv[1:])
