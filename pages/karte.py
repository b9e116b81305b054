"""Page placeholder: planned in issue #4, says so plainly until it is built."""

from dashboard import ui

ui.pending_page("karte", 4)
