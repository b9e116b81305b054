"""Where the local accounts live: `$WK_USERS` or `config/users.toml`.

Its own module because two others derive their files from it: `auth` (the accounts, their
lock-out state) and `sessions` (the login store next to the accounts file).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def users_path() -> Path:
    """The accounts file (TOML)."""
    return Path(os.environ.get("WK_USERS", ROOT / "config" / "users.toml"))
