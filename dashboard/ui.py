"""Streamlit helpers shared by the entry point and the pages: language, viewer, filters, layout.

Shared filters live in the sidebar of the entry point, so every page uses the same widget state,
and they are mirrored into the URL query string (`?bundesland=Bayern&status=aktiv`) so a filtered
view can be bookmarked and sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import fields
from typing import NamedTuple, NoReturn
from urllib.parse import urlencode, urlsplit

import polars as pl
import streamlit as st

from dashboard import audit, auth, data, figcache, fmt, paint, sessions
from dashboard.i18n import LANGUAGES, translate, translate_values, value_names
from dashboard.i18n import value as _value
from dashboard.maps import GEO_ROUTE
from dashboard.report.definitions import FIGURE_BY_KEY, SMALL_CELL_TEXT, Report
from etl.excel_csv import to_excel_csv_bytes

_log = logging.getLogger(__name__)
FILTER_KEYS = tuple(f.name for f in fields(data.Filters))
_INIT_FLAG = "_filters_from_url"
# Markdown, Streamlit's directives (`:red[…]`, `:material/x:`), LaTeX (`$`) and HTML starts
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")
# bidirectional overrides and isolates would reorder the text around a value on screen
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Streamlit's Markdown turns a bare `http://…` or `www.…` into a link after escapes are resolved;
# an invisible word joiner inside the pattern keeps it text
_AUTOLINK = re.compile(r"(?i)(://|www\\?\.)")


def md_escape(text: object) -> str:
    """Any value from data (a commune name, a reason, a file name) as Markdown that shows it
    literally: no image, link, HTML, directive or formula can come out of it, bidi controls are
    dropped and line breaks become spaces. The one escape helper of the project: every value
    that reaches st.markdown, headers, captions, metric labels, help texts or translated
    templates goes through it."""
    flat = _BIDI_CONTROLS.sub("", str(text)).replace("\r\n", " ").replace("\r", " ")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", flat.replace("\n", " "))
    return _AUTOLINK.sub(lambda m: m.group(1)[0] + "\u2060" + m.group(1)[1:], escaped)


def lang() -> str:
    """The UI language of this session (`de` default, `en` via switch or `?lang=en`)."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", "de")
        st.session_state["lang"] = wanted if wanted in LANGUAGES else "de"
    return st.session_state["lang"]


def t(key: str, **values: object) -> str:
    """Translated UI string for the session's language."""
    return translate(lang(), key, **values)


def values(frame: pl.DataFrame, **columns: str) -> pl.DataFrame:
    """`frame` with the German data values of `columns` (`column="domain"`, a section
    `[werte.<domain>]`) in the session's language; the data themselves stay German."""
    return translate_values(frame, lang(), **columns)


def value(domain: str, german: str | None) -> str | None:
    """One German data value in the session's language (e.g. a status in a metric)."""
    return _value(lang(), domain, german)


def label_for(prefix: str):
    """A `format_func` for widgets whose options are keys: option `v` shows `t(prefix + v)` in
    the language of this run (bound now: Streamlit may call it outside the script run)."""
    lang_ = lang()
    return lambda v: translate(lang_, f"{prefix}{v}")


def value_label(domain: str):
    """A `format_func` for widgets whose options are German data values (URLs keep German)."""
    names = value_names(lang(), domain)
    return lambda v: names.get(v, v)


def viewer() -> data.Viewer:
    """The viewer of this session: set at login, a public visitor otherwise."""
    return st.session_state.get("viewer", data.PUBLIC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _redirect(url: str) -> None:
    """Send the browser to `url` (a full page load). Streamlit has no public call for this; it
    is the message `st.login`/`st.logout` send (ForwardMsg.auth_redirect: the frontend sets
    `window.location.href`)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    msg = ForwardMsg()
    msg.auth_redirect.url = url
    ctx.enqueue(msg)


def _client_ip() -> str | None:
    """The browser's address as the server sees it (None on loopback and in AppTest)."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) else None


def _start_session(user: str, demo: bool, account_viewer: data.Viewer) -> None:
    st.session_state["viewer"] = account_viewer
    st.session_state["user"] = user
    st.session_state["demo"] = demo
    st.session_state["last_seen"] = _now()


def sign_in(account_viewer: data.Viewer, user: str, method: str, demo: bool = False,
            next_path: str | None = None) -> bool:
    """Start a logged-in session (after a password or OIDC login).

    A password login also gets a server-side session and, through `/sitzung/start`, the signed
    HttpOnly cookie that lets a reload or a new tab continue it (dashboard/sessions.py); the
    browser then loads `next_path` (default: the start page). True when the browser is being
    sent there (only when served by dashboard/server.py, which has that route)."""
    # audited first: a login the audit log cannot record does not take effect (OSError up)
    audit.log_event(user, "login_ok", {"role": account_viewer.role, "methode": method})
    _start_session(user, demo, account_viewer)
    if method == "passwort":
        sid, ticket = sessions.create(user, method, _client_ip())
        st.session_state["sid"] = sid
        if sessions.ROUTES_SERVED:
            _redirect(f"{sessions.url(sessions.START_PATH)}?"
                      + urlencode({"t": ticket, "next": sessions.safe_next(next_path)}))
            return True
    return False


def sign_out(reason: str = "logout", clear_cookie: bool = True) -> bool:
    """End the session's login everywhere: the server-side session is revoked (so the cookie
    in other tabs is worthless too), the cookie cleared; with OIDC also the identity provider
    session. True when the browser is being sent elsewhere (the script should then stop).
    An ending the user did not ask for (timeout, revocation) keeps the page and its German
    note; the left-over cookie is worthless, as its session is gone."""
    user = st.session_state.get("user")
    if user:
        audit.log_event(user, reason, {})
    sid = st.session_state.get("sid")
    for key in ("viewer", "user", "last_seen", "sid", "demo"):
        st.session_state.pop(key, None)
    if sid:
        sessions.revoke(sid)
        if clear_cookie and sessions.ROUTES_SERVED:
            _redirect(sessions.url(sessions.END_PATH))
            return True
        return False
    if oidc_enabled() and st.user.is_logged_in:
        st.logout()
        return True
    return False


def oidc_enabled() -> bool:
    """OIDC login is on when `.streamlit/secrets.toml` has an `[auth]` section."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def _resume_from_cookie() -> None:
    """Continue a password login of this browser from its session cookie (reload, new tab)."""
    session = sessions.resume(st.context.cookies.get(sessions.COOKIE))
    if session is None:
        return
    account = auth.load_accounts().get(session.user)
    if account is None:  # removed meanwhile
        sessions.revoke(session.sid)
        return
    _start_session(account.username, account.demo, account.viewer)
    st.session_state["sid"] = session.sid


def _demo_data() -> bool:
    try:
        return data.build_info().beispieldaten
    except data.DatabaseMissing:
        return False


def session_viewer() -> data.Viewer:
    """The session's viewer after applying the idle timeout, revocation, the demo rule and an
    OIDC or cookie sign-in if present."""
    sid = st.session_state.get("sid")
    if sid and sessions.current(sid) is None:
        # logged out in another tab, account removed, or idle too long in every tab
        sign_out("session_timeout", clear_cookie=False)
        st.session_state["flash"] = t("auth.timeout")
    elif st.session_state.get("user") and auth.session_expired(
            st.session_state.get("last_seen")):
        sign_out("session_timeout")
        st.session_state["flash"] = t("auth.timeout")
    if "viewer" not in st.session_state:
        _resume_from_cookie()
    if st.session_state.get("demo") and not _demo_data():
        # real data were applied: the publicly known demo passwords must not open them
        sign_out("demo_beendet", clear_cookie=False)
        st.session_state["flash"] = t("sessions.demo_ended")
    if "viewer" not in st.session_state and oidc_enabled() and st.user.is_logged_in:
        email = st.user.get("email")
        mapped = auth.viewer_for_oidc(st.user.to_dict(), auth.load_oidc_roles())
        if mapped is None:
            st.session_state["flash"] = t("auth.not_allowed", email=str(email or ""))
        else:
            sign_in(mapped, str(email).strip().lower(), "oidc")
    if st.session_state.get("user"):
        st.session_state["last_seen"] = _now()
    return viewer()


def account_box(current: data.Viewer) -> None:
    """Sidebar: who is signed in (role, commune), logout; flash messages after a timeout."""
    flash = st.session_state.pop("flash", None)
    if flash:
        st.warning(flash, icon=":material/info:")
    box = st.sidebar.container(border=True)
    if current.role == "public":
        box.caption(t("auth.public_hint"))
        return
    role = t(f"auth.role_{current.role}")
    # the account name as plain text (an OIDC address may hold Markdown characters)
    box.text(str(st.session_state.get("user", "")))
    box.caption(role + (f" · {current.kommune_id}" if current.kommune_id else ""))
    if box.button(t("auth.logout"), icon=":material/logout:", key="logout"):
        if sign_out():
            st.stop()  # the browser reloads without the cookie
        st.rerun()


def requested_path(stem: str) -> str:
    """This page with its URL parameters (filters, commune), to continue to after sign-in."""
    params = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)
              if k not in ("next", "hinweis")]
    return f"/{stem}" + (f"?{urlencode(params)}" if params else "")


def login_form(next_path: str | None) -> None:
    """User name + password; on success the browser continues to `next_path`."""
    with st.form("login", enter_to_submit=True):
        username = st.text_input(t("auth.username"), autocomplete="username")
        password = st.text_input(t("auth.password"), type="password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(t("auth.submit"), icon=":material/login:")
    if not submitted:
        return
    name = username.strip().lower()
    try:
        account = auth.authenticate(name, password, client=_client_ip())
        if auth.is_demo_account(account) and not _demo_data():
            raise auth.AuthError(t("auth.demo_refused"))
    except auth.AuthError as exc:
        # Only a known account name is logged: an unknown "name" may be a password typed into
        # the wrong field.
        known = name in auth.load_accounts()
        audit.log_event(name if known else "(unbekannt)", "login_failed",
                        {"grund": str(exc)[:120]})
        st.error(str(exc), icon=":material/lock:")
        return
    try:
        redirected = sign_in(account.viewer, account.username, "passwort", demo=account.demo,
                             next_path=next_path)
    except OSError:
        _log.exception("Anmeldung nicht protokollierbar")
        st.error(t("auth.audit_unwritable"), icon=":material/error:")
        return
    if redirected:
        st.success(t("sessions.signing_in"), icon=":material/login:")
        st.stop()  # the browser reloads at /sitzung/start
    st.rerun()


def locked_page(stem: str) -> None:
    """A page this viewer may not open (yet): sign-in with a hint instead of Streamlit's
    "Page not found"; after sign-in the browser continues to the page with its filters."""
    title = t(f"nav.{stem}")
    if stem == "anmelden":  # already signed in (an old bookmark or a second sign-in)
        st.title(title)
        st.success(t("sessions.already_signed_in"), icon=":material/check_circle:")
    elif viewer().role == "public":
        st.title(t("auth.title"))
        st.info(t("sessions.login_needed", page=title), icon=":material/lock:")
        login_form(requested_path(stem))
    else:
        st.title(title)
        st.warning(t("sessions.no_access", page=title), icon=":material/block:")


def language_switch() -> None:
    """Sidebar language selector, kept in the URL."""
    current = lang()
    choice = st.sidebar.radio(
        t("app.language"), LANGUAGES, index=LANGUAGES.index(current), horizontal=True,
        format_func=lambda code: {"de": "Deutsch", "en": "English"}[code], key="lang_choice",
    )
    if choice != current:
        st.session_state["lang"] = choice
        st.rerun()
    if choice == "de":
        st.query_params.pop("lang", None)
    else:
        st.query_params["lang"] = choice


def _reset_filters() -> None:
    for key in FILTER_KEYS:
        st.session_state[f"flt_{key}"] = []


def filters_from_params(params: dict[str, list[str]], options: dict[str, list[str]]
                        ) -> data.Filters:
    """Filters from URL parameters; unknown values are ignored (old or edited links)."""
    return data.Filters(**{
        key: tuple(v for v in params.get(key, []) if v in options.get(key, []))
        for key in FILTER_KEYS
    })


# Filters whose options are data values with a translation (the start quarter is not).
_TRANSLATED_FILTERS = ("bundesland", "typ", "groessenklasse", "status")


def shared_filters() -> data.Filters:
    """The shared filters (synced with the URL) as a `data.Filters` for the data layer.

    Only reads them (from the URL on a session's first run, else from the widget state); the
    sidebar pills are drawn by `filter_widgets` after the page (see `run_page`).
    """
    options = data.filter_options()
    if not st.session_state.get(_INIT_FLAG):
        from_url = filters_from_params(
            {k: st.query_params.get_all(k) for k in FILTER_KEYS}, options)
        for key in FILTER_KEYS:
            st.session_state[f"flt_{key}"] = list(getattr(from_url, key))
        st.session_state[_INIT_FLAG] = True
    chosen = data.Filters(**{
        k: tuple(v for v in st.session_state.get(f"flt_{k}") or [] if v in options[k])
        for k in FILTER_KEYS})
    for key in FILTER_KEYS:
        values = list(getattr(chosen, key))
        if values:
            st.query_params[key] = values
        else:
            st.query_params.pop(key, None)
    return chosen


def filter_widgets() -> None:
    """Sidebar pills of the shared filters and the reset button.

    Drawn after the page's content: the browser shows the page's first key figure before it
    lays out some sixty pill buttons (bench/first_figure.py: 4.0× → 1.8× hello-world with the
    sidebar sent last). Pills, not multiselects: a select box loads another large script chunk
    before the first figure (+0.5 s per cold load, bench/results.md).
    """
    options = data.filter_options()
    sidebar = st.sidebar
    sidebar.subheader(t("filters.header"))
    sidebar.caption(t("filters.placeholder"))
    for key in FILTER_KEYS:
        sidebar.pills(t(f"filters.{key}"), options[key], key=f"flt_{key}",
                      selection_mode="multi",
                      format_func=value_label(key) if key in _TRANSLATED_FILTERS else str)
    active = any(st.session_state.get(f"flt_{k}") for k in FILTER_KEYS)
    sidebar.button(t("filters.reset"), on_click=_reset_filters, disabled=not active,
                   key="filters_reset", icon=":material/filter_alt_off:")


# The menu's state (and the page's language, `<html lang>`) for assistive technology and
# phones. Streamlit's page links show the current page only visually (background, bold), and
# its sectioned menu puts the section headers inside a <ul> (an axe "list" violation, WCAG
# 1.3.1), so the menu is our own: a heading per section and page links in a container, which
# this script marks as the navigation landmark, with `aria-current="page"` on the current link
# (again after Streamlit redraws the links).
# Phone width: Streamlit leaves the sidebar (menu and filters) open over the page after a menu
# click. This closes it once per page change below 768 px (Streamlit's own mobile breakpoint);
# filter clicks do not change the page, so the open sidebar stays for them, and the ">" button
# opens it again. Constant code; the values are ours (JSON-quoted).
_MENU_SCRIPT = """<script>
(() => {
  const page = %s, label = %s, current = %s, key = %s;
  document.documentElement.lang = %s;  // Streamlit's page says "en" whatever the language
  const mark = () => {
    const menu = document.querySelector('.st-key-' + key);
    if (!menu) return;
    menu.setAttribute('role', 'navigation');
    menu.setAttribute('aria-label', label);
    menu.querySelectorAll('a[data-testid="stPageLink-NavLink"]').forEach((a, i) => {
      if (i === current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  };
  mark();
  if (window.__wkMenuObserver) window.__wkMenuObserver.disconnect();
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  if (sidebar) {
    window.__wkMenuObserver = new MutationObserver(mark);
    window.__wkMenuObserver.observe(sidebar, {childList: true, subtree: true});
  }
  const previous = window.__wkPage;
  window.__wkPage = page;
  if (previous === undefined || previous === page || window.innerWidth >= 768) return;
  const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (button) button.click();
})();
</script>"""
MENU_KEY = "wk_menu"


def geo_url() -> str | None:
    """Absolute URL of the boundary files on the app server (`dashboard/server.py` serves them
    below `maps.GEO_ROUTE`), from the address the browser uses; None where nothing serves them
    (`streamlit run dashboard/app.py`, AppTest): the maps then carry the GeoJSON inline."""
    url = st.context.url if sessions.ROUTES_SERVED else None
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{sessions.url(GEO_ROUTE)}"


def page_menu(menu, sections: dict[str, list], current) -> None:
    """Draw the page menu into `menu` (a sidebar container with key `MENU_KEY`): a heading per
    section (translated titles → `st.Page`s, in order) and a link per page; `current` is the page
    shown. The links carry the shared filters and the language, so a link opened in a new tab
    shows the same selection."""
    keep = {key: st.query_params.get_all(key) for key in (*FILTER_KEYS, "lang")
            if key in st.query_params}
    links = [page for pages in sections.values() for page in pages]
    for heading, pages in sections.items():
        menu.subheader(heading, anchor=False)
        for page in pages:
            menu.page_link(page, query_params=keep)
    position = next((i for i, page in enumerate(links) if page.url_path == current.url_path),
                    None)
    menu.html(_MENU_SCRIPT % (json.dumps(current.url_path), json.dumps(t("nav2.menu")),
                              json.dumps(position), json.dumps(MENU_KEY), json.dumps(lang())),
              unsafe_allow_javascript=True)


# The page being run, and the page whose key figures the browser has already drawn.
_PAGE_SHOWN, _PAGE_PAINTED = "_wk_page_shown", "_wk_page_painted"
# Reports to the app server (`paint.ROUTE`) once the browser shows the page's key figures: the
# elements arrive together but each is drawn once its own script part is loaded, so it checks
# every frame for the figures, then waits for the next frame (painted), then reports. It gives
# up when the server has stopped waiting (`paint.MAX_WAIT`: a figure that never comes).
# Constant code; the values are ours (JSON-quoted).
_PAINTED_SCRIPT = """<script>
(() => {
  const url = %s, selector = %s, until = performance.now() + %d;
  const report = () => fetch(url, {method: "POST", keepalive: true, credentials: "same-origin"})
    .catch(() => {});
  const check = () => {
    const found = document.querySelector('[data-testid="stMain"] ' + selector);
    if (found)  // an image is drawn once decoded
      (found.decode ? found.decode().catch(() => {}) : Promise.resolve())
        .then(() => requestAnimationFrame(() => setTimeout(report, 0)));
    else if (performance.now() < until) requestAnimationFrame(check);
  };
  check();
})();
</script>"""
KEY_METRIC = '[data-testid="stMetricValue"]'
KEY_MAP_PREVIEW = ".wk-map-preview img"


def painted_script(url: str, selector: str) -> str:
    """The script that reports the key figure `selector` drawn by POSTing to `url`."""
    return _PAINTED_SCRIPT % (json.dumps(url), json.dumps(selector),
                              round(paint.MAX_WAIT * 1000))


def figure_metrics(report: Report, keys: tuple[str, ...], columns: list) -> None:
    """The report's headline figures `keys` as metrics, one per column of `columns`, each with
    its definition as help: the same label, value and "x" as the Überblick, the Bericht and the
    exports."""
    for column, key in zip(columns, keys, strict=True):
        figure = FIGURE_BY_KEY[key]
        column.metric(figure.label(lang()), report.figure_text(key, lang()),
                      help=figure.definition(lang()))


def report_stand(report: Report) -> None:
    """The caption under a page's report figures: their Stichtag and the period's start."""
    st.caption(t("overview_stichtag.caption", stichtag=fmt.date(report.stichtag, lang()),
                 von=fmt.date(report.von, lang())))


def paint_pending() -> bool:
    """Whether `key_figures_sent` will wait on this run: the page's first run in this session,
    under the app server. A page may send a light stand-in for a slow key figure then."""
    return (sessions.ROUTES_SERVED
            and st.session_state.get(_PAGE_PAINTED) != st.session_state.get(_PAGE_SHOWN))


def key_figures_sent(selector: str = KEY_METRIC) -> None:
    """Called by a page after its key figures and before its (other) charts; `selector` finds a
    key figure in the page (`KEY_METRIC`, or `KEY_MAP_PREVIEW` for a map's preview image). On
    the page's first run in this session, wait until the browser has drawn the figures
    (`dashboard.paint`): charts arriving with them hold them back until Plotly's script is
    loaded and run. Later runs of the same page (a filter click) keep the figures on screen
    and do not wait; without the app server's routes (`streamlit run dashboard/app.py`,
    AppTest) nothing waits."""
    if not paint_pending():
        return
    st.session_state[_PAGE_PAINTED] = st.session_state.get(_PAGE_SHOWN)
    token = paint.expect()
    st.html(painted_script(sessions.url(f"{paint.ROUTE}/{token}"), selector),
            unsafe_allow_javascript=True)
    paint.wait(token)


class PageEnd(Exception):
    """Raised by `end_page`; `run_page` catches it."""


_in_run_page = threading.local()


def end_page() -> NoReturn:
    """End the page here and still draw the menu, the sidebar filters and the footer. (After
    `st.stop()` every further Streamlit call raises again, so the filters drawn after the page
    were missing exactly where a message asks the visitor to change them.) A page script run on
    its own, outside `run_page` (AppTest of a single page), simply stops."""
    if getattr(_in_run_page, "active", False):
        raise PageEnd
    st.stop()


def run_page(nav, menu: Callable[[], None]) -> None:
    """Run the chosen page, then draw the `menu` and the filter widgets (after `end_page()` too,
    not after `st.stop()`): the browser shows the page's first content before it lays out the
    sidebar. An unexpected error becomes a German message, not a traceback."""
    st.session_state[_PAGE_SHOWN] = nav.url_path
    _in_run_page.active = True
    try:
        nav.run()
    except PageEnd:
        pass
    except Exception as exc:  # st.stop/st.rerun raise BaseException subclasses: not caught
        _log.exception("Fehler auf der Seite %s", nav.title)
        st.error(t("app.page_error", error=type(exc).__name__), icon=":material/error:")
    finally:
        _in_run_page.active = False
        menu()
        filter_widgets()


class PageContext(NamedTuple):
    """What every page starts with: language, viewer, the shared filters (unpacks as a tuple)."""

    lang: str
    viewer: data.Viewer
    filters: data.Filters


def page(title_key: str) -> PageContext:
    """Open a page: its title from the i18n key, and the language, viewer and shared filters."""
    st.title(t(title_key))
    return PageContext(lang(), viewer(), st.session_state.get("filters", data.NO_FILTERS))


def demo_banner(info: data.BuildInfo) -> None:
    if info.beispieldaten:
        st.info(t("app.demo_banner"), icon=":material/science:")


def footer(info: data.BuildInfo | None) -> None:
    st.divider()
    if info is not None:
        st.caption(t("app.data_version", datenstand=fmt.date(info.datenstand, lang()),
                     build_id=info.build_id))
    st.caption(t("app.footer"))


def empty_state() -> None:
    """Friendly message when the filters leave nothing to show."""
    st.warning(f"**{t('empty.title')}**  \n{t('empty.text')}", icon=":material/filter_list_off:")


def whole_programme_note(filters: data.Filters) -> None:
    """Public figures are those of the whole programme (`data.load_report`): said where a
    reader has chosen filters that the page therefore does not apply."""
    if filters.active:
        st.info(t("public.whole_programme"), icon=":material/public:")


def small_selection() -> None:
    """Public pages whose selection holds fewer than three admitted communes, or none: one and
    the same message for both (`data.public_selection_small`), no figure."""
    st.info(f"**{t('public.small_title')}**  \n{t('public.small_text')}",
            icon=":material/filter_list_off:")


PROFILE_KEY = "AGS"  # tables that link to profiles carry the commune key in this column


def column_config(frame: pl.DataFrame) -> dict:
    """Dates and whole numbers in the UI language's format (CLDR via `fmt`), not the browser's,
    still sortable as dates and numbers. Decimals need `table_view`: Streamlit's printf
    formats know a thousands separator but no decimal comma."""
    date_format = "DD.MM.YYYY" if lang() == "de" else "D MMM YYYY"  # = fmt.date
    integer_format = f"%'{fmt.group_symbol(lang())},d"  # "%'.,d": 217.198 (de), 217,198 (en)
    config = {}
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(format=date_format)
        elif dtype.is_integer():
            config[name] = st.column_config.NumberColumn(format=integer_format)
    return config


def _decimals(column: pl.Series, most: int = 6) -> int:
    """The fewest decimals (up to `most`) that show every value of a float column exactly."""
    values = column.drop_nulls()
    for d in range(most):
        scaled = values * 10**d
        if values.is_empty() or (scaled - scaled.round(0)).abs().max() < 1e-9:
            return d
    return most


def _number_text(column: pl.Series, hidden: str | None) -> pl.Series:
    """Numbers as text; an empty cell reads `hidden` (public) or `–` (a null text cell would
    show a grey "None")."""
    return _number_texts(column, hidden, lang())


@figcache.cached  # once per column content: 94,000 national Karte cells take seconds
def _number_texts(column: pl.Series, hidden: str | None, lang_: str) -> pl.Series:
    decimals = _decimals(column) if column.dtype.is_float() else 0
    empty = fmt.NONE if hidden is None else hidden
    return pl.Series(column.name, [empty if v is None else fmt.number(v, decimals, lang_)
                                   for v in column.to_list()], dtype=pl.String)


def table_view(frame: pl.DataFrame, hidden: str | None = None) -> tuple[pl.DataFrame, dict]:
    """`frame` as a table shows it, with its `column_config`: decimals, and whole numbers with
    empty cells, as right-aligned text in the UI language (`fmt.number`, an empty cell as `–`,
    where Streamlit would show a grey "None"); an empty text cell as `–` too; with `hidden` set
    (public tables) every number as text and a count hidden by the small-cell rule (null) as
    `hidden`. Such columns sort as text. The CSV keeps the frame (empty cells stay empty)."""
    as_text = [n for n, d in frame.schema.items()
               if d.is_float() or (d.is_integer() and frame[n].has_nulls())
               or (hidden is not None and d.is_numeric())]
    texts = [n for n, d in frame.schema.items() if d == pl.String and frame[n].has_nulls()]
    shown = frame.with_columns(*(_number_text(frame[n], hidden) for n in as_text),
                               *(pl.col(n).fill_null(fmt.NONE) for n in texts))
    config = column_config(frame)
    config.update({n: st.column_config.TextColumn(alignment="right") for n in as_text})
    return shown, config


def show_suppressed(frame: pl.DataFrame) -> pl.DataFrame:
    """Public CSV downloads: a count hidden by the small-cell rule (null) reads "x"."""
    numeric = [n for n, d in frame.schema.items() if d.is_numeric()]
    return frame.with_columns(
        pl.col(n).cast(pl.String).fill_null(SMALL_CELL_TEXT) for n in numeric
    )


# Session-state key prefix of the tabs (`chart_and_table`) and expanders (`table_box`) that build
# their table only while open.
TABLE_SWITCH = "tables_"


def table_box(key: str, label: str | None = None):
    """An expander (headed "Tabelle" unless `label` is given) whose content is built and sent
    only while it is open: the container to fill while open, else None."""
    box = st.expander(label or t("common.table"), key=f"{TABLE_SWITCH}{key}", on_change="rerun")
    return box if box.open else None


def _keep_tab_across_languages(state_key: str, labels: list[str]) -> None:
    """The open tab is stored by its label: after a language switch, the same tab in the new
    language (st.tabs would fall back to the first tab)."""
    chosen = st.session_state.get(state_key)
    if chosen is None or chosen in labels:
        return
    tables = {translate(other, "common.table") for other in LANGUAGES}
    st.session_state[state_key] = labels[1] if chosen in tables else labels[0]


def chart_and_table(fig, frame: pl.DataFrame, file_stem: str, key: str,
                    link_profiles: bool = False) -> None:
    """A chart with its table alternative (and CSV of exactly that table) in two tabs.

    The table is built and sent only while its tab is open (`on_change="rerun"`: opening the
    tab reruns the page): a page shows its first key figure sooner without a grid in every
    closed tab (bench/first_figure.py). The open tab is kept per chart `key` across reruns;
    the chart tab is the default.
    """
    labels = [t("common.chart"), t("common.table")]
    _keep_tab_across_languages(TABLE_SWITCH + key, labels)
    tab_chart, tab_table = st.tabs(labels, key=TABLE_SWITCH + key, on_change="rerun")
    tab_chart.plotly_chart(fig, key=f"chart_{key}", config={"displaylogo": False})
    if tab_table.open:
        with tab_table:
            table_with_download(frame, file_stem, key=f"dl_{key}", link_profiles=link_profiles)


PAGES_DIR = data.ROOT / "pages"


def labelled(frame: pl.DataFrame, section: str, *columns: str, **keys: str) -> pl.DataFrame:
    """`columns` of `frame`, headed with translated labels `section.<key>`; the key is the column
    name unless given as `column="key"`."""
    return frame.select(pl.col(c).alias(t(f"{section}.{keys.get(c, c)}")) for c in columns)


def timeline_labels() -> dict[str, str]:
    """Translated legend and hover labels for `charts.timeline`."""
    keys = ("geplant", "erreicht", "verspätet erreicht", "überfällig", "entfallen", "mark_min",
            "mark_max", "today")
    return {k: t(f"fortschritt.{k}") for k in keys}


def _export_user() -> str:
    return st.session_state.get("user", "öffentlich")


def logged_export(make: Callable[[], bytes], user: str, file_name: str) -> Callable[[], bytes]:
    """`make`, which also writes the export to the audit log (file name, no content) once the
    file is made: for a file made on click, outside any script run."""
    def made() -> bytes:
        data = make()
        audit.log_event(user, "export", {"datei": file_name})
        return data
    return made


def download_on_click(container, label: str, make: Callable[[], bytes], file_name: str,
                      **kwargs) -> None:
    """A download button whose file is made only when clicked (Streamlit's deferred download),
    logged when it is made. The click starts no script run: a run would replace the button's
    deferred file while the browser is still asking for it, and on a busy server the download
    then failed ("Deferred file … not found")."""
    container.download_button(label, logged_export(make, _export_user(), file_name),
                              file_name=file_name,
                              on_click="ignore", **kwargs)


def open_profile(kommune_id: str) -> None:
    """Go to a commune's profile in this session (absolute path: Streamlit resolves relative
    page paths against the entry point's folder, dashboard/)."""
    st.switch_page(PAGES_DIR / "kommune.py", query_params={"kommune": kommune_id})


def table_with_download(frame: pl.DataFrame, file_stem: str, key: str,
                        link_profiles: bool = False, hide: tuple[str, ...] = ()) -> None:
    """Show a table and offer exactly that data as German Excel CSV.

    With `link_profiles`, choosing a row opens that commune's profile (by its `AGS` column) in
    the same session; a link in a new tab would lose the sign-in. Columns in `hide` are left out
    of the table on screen (narrow layouts) but stay in the CSV.
    """
    public = viewer().role == "public"
    shown, config = table_view(frame, SMALL_CELL_TEXT if public else None)
    config.update(dict.fromkeys(hide))  # None hides a column
    if public:
        frame = show_suppressed(frame)
        link_profiles = False  # the public has no profile pages
    event = st.dataframe(shown, hide_index=True, column_config=config,
                         key=f"table_{key}", on_select="rerun" if link_profiles else "ignore",
                         selection_mode="single-row")
    if link_profiles:
        st.caption(t("common.row_opens_profile"))
        rows = event.selection.rows if event and event.selection else []
        if rows:
            open_profile(frame[PROFILE_KEY][rows[0]])
    # the CSV is made when the button is clicked, not on every page view
    download_on_click(st, t("common.download"), lambda: to_excel_csv_bytes(frame),
                      f"{file_stem}.csv", mime="text/csv", key=key, icon=":material/download:")


# The map's box: the preview (an image) lies under the interactive map, whose points map has no
# background of its own (`maps.points_map`), and is removed once MapLibre has drawn every point
# and line (its `idle` event), so a panned or zoomed map never shows it; at the latest at the
# first click or wheel turn on the map, or after `_PREVIEW_MAX_S`. Plotly's loading skeleton is
# hidden meanwhile.
_MAP_BOX_CSS = (
    ".st-key-%(key)s{position:relative;z-index:0}"
    ".st-key-%(key)s>[data-testid=stElementContainer]:has(.wk-map-preview){position:absolute;"
    "top:0;left:0;right:0;z-index:-1;pointer-events:none}"
    ".st-key-%(key)s [data-testid=stSkeleton]{visibility:hidden}")
_PREVIEW_MAX_S = 30
_PREVIEW_SCRIPT = """<script>
(() => {
  const key = %s, until = performance.now() + %d;
  const box = document.querySelector('.st-key-' + key);
  if (!box) return;
  const remove = () => {
    const img = box.querySelector('.wk-map-preview img');
    if (img) img.remove();
  };
  for (const type of ['pointerdown', 'wheel'])
    box.addEventListener(type, remove, {once: true, capture: true, passive: true});
  const check = () => {
    if (!box.querySelector('.wk-map-preview img')) return;
    const gd = box.querySelector('.js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
      && gd._fullLayout.map._subplot.map;
    if (performance.now() > until) remove();
    else if (map && map.loaded() && map.getStyle().layers.some(l => l.type === 'circle')) {
      map.once('idle', remove);
      map.triggerRepaint();
    } else setTimeout(check, 100);
  };
  check();
})();
</script>"""


def map_preview(svg: str | None, key: str, height: int) -> None:
    """Draw the preview `svg` of a map (`maps.preview_svg`) as the first element of the
    container `key`, centred and cut like the interactive map that follows it in the container
    and covers it. `None` draws an empty box: the map's place in the container stays the same,
    so Streamlit keeps the drawn map (and its zoom) on a rerun."""
    image = script = ""
    if svg is not None:
        data = base64.b64encode(svg.encode()).decode()
        image = (f'<img alt="" src="data:image/svg+xml;base64,{data}" style="position:absolute;'
                 'left:50%;top:0;transform:translateX(-50%);max-width:none">')
        script = _PREVIEW_SCRIPT % (json.dumps(key), _PREVIEW_MAX_S * 1000)
    st.html(f"<style>{_MAP_BOX_CSS % {'key': key}}</style>"
            f'<div class="wk-map-preview" style="height:{height}px;overflow:hidden;'
            f'position:relative">{image}</div>{script}', unsafe_allow_javascript=bool(script))
