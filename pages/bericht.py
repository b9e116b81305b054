"""Page placeholder: planned in issue #6, says so plainly until it is built."""

from dashboard import ui

ui.pending_page("bericht", 6)
