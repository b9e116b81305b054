"""Start the dashboard with warm caches: `python -m dashboard.serve [script.py] [options]`.

Runs `streamlit run dashboard/app.py [options]` (or another entry script) in this process after
starting the background warm-up (`dashboard.warmup`): Streamlit runs every session's script in
the server process, so the caches the warm-up fills (and the modules it imports) are the ones
the first visitor's page uses. Options are Streamlit's, e.g. `--server.port 8501`.

It also starts the memory housekeeping (`dashboard.housekeeping`): closed sessions and freed
heap pages go back to the system within `WK_HOUSEKEEPING_SECONDS` of the reconnect time.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def main(argv: list[str]) -> None:
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
