"""Page placeholder: planned in issue #5, says so plainly until it is built."""

from dashboard import ui

ui.pending_page("vernetzung", 5)
