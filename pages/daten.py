"""Page placeholder: planned in issue #7, says so plainly until it is built."""

from dashboard import ui

ui.pending_page("daten", 7)
