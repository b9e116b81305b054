"""Optional e-mail notifications about contact requests (the in-app inbox works without them).

Configured in `.streamlit/secrets.toml`; without an `[smtp]` section nothing is sent:

    [smtp]
    host = "smtp.example.org"
    port = 587
    starttls = true            # false for a local relay
    user = "monitor"           # optional
    password = "…"             # optional
    absender = "monitor@example.org"
    app_url = "https://monitor.example.org"   # optional link in the mail

Mails say only who asked or answered and link to the app: no message text and no contact data
(those are shown in the app, contacts only after acceptance). A failing server never breaks the
request; it is logged and the inbox still shows everything.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from dashboard import data
from dashboard.i18n import translate
from dashboard.store import db

_log = logging.getLogger(__name__)


def smtp_config() -> Mapping[str, Any] | None:
    """The `[smtp]` section of the Streamlit secrets, or None if not configured."""
    import streamlit as st

    try:
        return dict(st.secrets["smtp"]) if "smtp" in st.secrets else None
    except (FileNotFoundError, KeyError):
        return None


def send(config: Mapping[str, Any], to: str, subject: str, body: str,
         attachments: Mapping[str, bytes] | None = None) -> None:
    """Send one plain-text mail (optionally with files) through the configured server (raises on
    failure)."""
    message = EmailMessage()
    message["From"] = config["absender"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    for name, content in (attachments or {}).items():
        message.add_attachment(content, maintype="application", subtype="octet-stream",
                               filename=name)
    with smtplib.SMTP(config["host"], int(config.get("port", 25)), timeout=10) as smtp:
        if config.get("starttls", False):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("user"):
            smtp.login(config["user"], config["password"])
        smtp.send_message(message)


def _notify(request_id: str, recipient_side: str, key: str,
            config: Mapping[str, Any] | None) -> bool:
    config = config if config is not None else smtp_config()
    if not config:
        return False
    rows = db.read("austausch.request_by_id", {"id": request_id})
    if not rows:
        return False
    req = rows[0]
    other_side = "von_kommune_id" if recipient_side == "an_kommune_id" else "an_kommune_id"
    contacts = data.peer_contacts(data.STAFF, [req[recipient_side], req[other_side]])
    by_id = {r["kommune_id"]: r for r in contacts.iter_rows(named=True)}
    to = by_id.get(req[recipient_side], {}).get("email")
    if not to:
        return False
    other = by_id.get(req[other_side], {}).get("name", req[other_side])
    body = translate("de", f"austausch.mail.{key}_body", name=other,
                     field=req["handlungsfeld"], url=config.get("app_url", ""))
    try:
        send(config, to, translate("de", f"austausch.mail.{key}_subject", name=other), body)
    except (OSError, smtplib.SMTPException) as exc:
        _log.warning("Benachrichtigung zu Anfrage %s nicht gesendet: %s", request_id, exc)
        return False
    return True


def request_sent(request_id: str, config: Mapping[str, Any] | None = None) -> bool:
    """Tell the asked commune about a new request; True if a mail went out."""
    return _notify(request_id, "an_kommune_id", "request", config)


def request_accepted(request_id: str, config: Mapping[str, Any] | None = None) -> bool:
    """Tell the asking commune that its request was accepted; True if a mail went out."""
    return _notify(request_id, "von_kommune_id", "accepted", config)
