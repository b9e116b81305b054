"""Data import service for the Daten page, in three parts:

- `uploads`: checks of uploaded files (name, size, content type, zip bomb, encoding),
- `versions`: the version store (history, lock, atomic switch, rollback, rebuild, pruning),
- `preview`: validation and diff of an upload against the current version, and `apply`.

No Streamlit here; `pages/daten.py` only lays it out. The names below are what the page and the
tests use; `dashboard/privacy.py` uses the version store's public API.
"""

from dashboard.imports.preview import Diff, Preview, apply, diff_rows, preview
from dashboard.imports.uploads import (
    MAX_UPLOAD_BYTES,
    MB,
    Upload,
    UploadCheck,
    UploadLimits,
    UploadProblem,
    base_name,
    check_upload,
    check_uploads,
)
from dashboard.imports.versions import (
    KEEP_VERSIONS,
    ImportBusy,
    ImportFailed,
    Version,
    builds_dir,
    current_version,
    list_versions,
    locked,
    rejects_csv,
    rollback,
    versions_frame,
)

__all__ = [
    "KEEP_VERSIONS", "MAX_UPLOAD_BYTES", "MB", "Diff", "ImportBusy", "ImportFailed", "Preview",
    "Upload", "UploadCheck", "UploadLimits", "UploadProblem", "Version", "apply", "base_name",
    "builds_dir", "check_upload", "check_uploads", "current_version", "diff_rows",
    "list_versions", "locked", "preview", "rejects_csv", "rollback", "versions_frame",
]
