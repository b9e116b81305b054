"""Start the dashboard with warm caches: `python -m dashboard.serve [script.py] [options]`.

Runs `streamlit run dashboard/app.py [options]` (or another entry script) in this process after
starting the background warm-up (`dashboard.warmup`): Streamlit runs every session's script in
the server process, so the caches the warm-up fills (and the modules it imports) are the ones
the first visitor's page uses. Options are Streamlit's, e.g. `--server.port 8501`.

It also starts the memory housekeeping (`dashboard.housekeeping`): closed sessions and freed
heap pages go back to the system within `WK_HOUSEKEEPING_SECONDS` of the reconnect time. For
that, Python's objects live on glibc's heap (`use_system_allocator`), where `malloc_trim` can
return every free page.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def use_system_allocator() -> None:
    """Run this process again with `PYTHONMALLOC=malloc` (same pid, arguments and environment)
    unless the environment sets `PYTHONMALLOC` already (that wins) or there is no glibc.

    Python's own small-object allocator takes memory in 1 MiB arenas and gives an arena back
    only when every object in it is gone. The objects of 50 national sessions filled about
    180 arenas more; once the sessions were gone, a few long-lived objects made during the
    visits kept most of them (bench/memory.py: 292 arenas for 113 MiB of objects, +201 MiB RSS
    over the warm-up). On glibc's heap the same objects leave free 4 KiB pages, which the
    housekeeping's `malloc_trim` returns (+21 MiB). Must run before anything else is loaded."""
    from dashboard import housekeeping

    if os.environ.get("PYTHONMALLOC") is not None or not housekeeping.malloc_trim():
        return
    os.environ["PYTHONMALLOC"] = "malloc"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, sys.orig_argv)


def main(argv: list[str]) -> None:
    use_system_allocator()
    from streamlit.web import cli

    from dashboard import housekeeping, warmup

    script = argv[0] if argv and argv[0].endswith(".py") else str(APP)
    options = argv[1:] if argv and argv[0].endswith(".py") else argv
    log = logging.getLogger("dashboard")  # the warm-up reports when the caches are ready
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    housekeeping.start()  # first: it limits glibc's arenas before other threads allocate
    warmup.start()
    sys.argv = ["streamlit", "run", script, *options]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
