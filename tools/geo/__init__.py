"""Reference geography (VG250 borders, AGS, population) for the dashboard."""
