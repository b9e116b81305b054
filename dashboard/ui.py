"""Streamlit helpers shared by the entry point and the pages: language, viewer, filters, layout.

Shared filters live in the sidebar of the entry point, so every page uses the same widget state,
and they are mirrored into the URL query string (`?bundesland=Bayern&status=aktiv`) so a filtered
view can be bookmarked and sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import fields

import polars as pl
import streamlit as st

from dashboard import audit, auth, data, fmt
from dashboard.i18n import LANGUAGES, translate
from etl.excel_csv import to_excel_csv_bytes

_log = logging.getLogger(__name__)
FILTER_KEYS = tuple(f.name for f in fields(data.Filters))
_INIT_FLAG = "_filters_from_url"


def lang() -> str:
    """The UI language of this session (`de` default, `en` via switch or `?lang=en`)."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", "de")
        st.session_state["lang"] = wanted if wanted in LANGUAGES else "de"
    return st.session_state["lang"]


def t(key: str, **values: object) -> str:
    """Translated UI string for the session's language."""
    return translate(lang(), key, **values)


def viewer() -> data.Viewer:
    """The viewer of this session: set at login, a public visitor otherwise."""
    return st.session_state.get("viewer", data.PUBLIC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sign_in(account_viewer: data.Viewer, user: str, method: str) -> None:
    """Start a logged-in session (after a password or OIDC login)."""
    st.session_state["viewer"] = account_viewer
    st.session_state["user"] = user
    st.session_state["last_seen"] = _now()
    audit.log_event(user, "login_ok", {"role": account_viewer.role, "methode": method})


def sign_out(reason: str = "logout") -> None:
    """End the session's login; with OIDC also end the identity provider session."""
    user = st.session_state.get("user")
    if user:
        audit.log_event(user, reason, {})
    for key in ("viewer", "user", "last_seen"):
        st.session_state.pop(key, None)
    if oidc_enabled() and st.user.is_logged_in:
        st.logout()


def oidc_enabled() -> bool:
    """OIDC login is on when `.streamlit/secrets.toml` has an `[auth]` section."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def session_viewer() -> data.Viewer:
    """The session's viewer after applying the idle timeout and an OIDC sign-in if present."""
    if st.session_state.get("user") and auth.session_expired(st.session_state.get("last_seen")):
        sign_out("session_timeout")
        st.session_state["flash"] = t("auth.timeout")
    if "viewer" not in st.session_state and oidc_enabled() and st.user.is_logged_in:
        mapped = auth.viewer_for_email(st.user.get("email"), auth.load_oidc_roles())
        if mapped is None:
            st.session_state["flash"] = t("auth.not_allowed", email=st.user.get("email", ""))
        else:
            sign_in(mapped, str(st.user.get("email")), "oidc")
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
    box.markdown(f"**{st.session_state.get('user', '')}**  \n{role}"
                 + (f" · {current.kommune_id}" if current.kommune_id else ""))
    if box.button(t("auth.logout"), icon=":material/logout:", key="logout"):
        sign_out()
        st.rerun()


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


def shared_filters() -> data.Filters:
    """Sidebar filters (synced with the URL) as a `data.Filters` for the data layer."""
    options = data.filter_options()
    if not st.session_state.get(_INIT_FLAG):
        from_url = filters_from_params(
            {k: st.query_params.get_all(k) for k in FILTER_KEYS}, options)
        for key in FILTER_KEYS:
            st.session_state[f"flt_{key}"] = list(getattr(from_url, key))
        st.session_state[_INIT_FLAG] = True
    sidebar = st.sidebar
    sidebar.subheader(t("filters.header"))
    sidebar.caption(t("filters.placeholder"))
    # Pills, not multiselects: a select box makes the browser load another large script chunk
    # before the page's first figure shows (measured +0.5 s per cold load, bench/results.md).
    for key in FILTER_KEYS:
        sidebar.pills(t(f"filters.{key}"), options[key], key=f"flt_{key}",
                      selection_mode="multi")
    chosen = data.Filters(**{k: tuple(st.session_state[f"flt_{k}"]) for k in FILTER_KEYS})
    sidebar.button(t("filters.reset"), on_click=_reset_filters, disabled=not chosen.active,
                   key="filters_reset",
                   icon=":material/filter_alt_off:")
    for key in FILTER_KEYS:
        values = list(getattr(chosen, key))
        if values:
            st.query_params[key] = values
        else:
            st.query_params.pop(key, None)
    return chosen


def run_page(nav) -> None:
    """Run the chosen page; an unexpected error becomes a German message, not a traceback."""
    try:
        nav.run()
    except Exception as exc:  # st.stop/st.rerun raise BaseException subclasses: not caught
        _log.exception("Fehler auf der Seite %s", nav.title)
        st.error(t("app.page_error", error=type(exc).__name__), icon=":material/error:")


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


PROFILE_KEY = "AGS"  # tables that link to profiles carry the commune key in this column


def column_config(frame: pl.DataFrame) -> dict:
    """Dates as TT.MM.JJJJ (de) and numbers in the browser's number format, still sortable."""
    date_format = "DD.MM.YYYY" if lang() == "de" else "YYYY-MM-DD"
    config = {}
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(format=date_format)
        elif dtype.is_float() or dtype.is_integer():
            config[name] = st.column_config.NumberColumn(format="localized")
    return config


def show_suppressed(frame: pl.DataFrame) -> pl.DataFrame:
    """Public tables: a count hidden by the small-cell rule (null) reads "<3"."""
    from dashboard.report.definitions import SMALL_CELL_TEXT

    numeric = [n for n, d in frame.schema.items() if d.is_numeric()]
    return frame.with_columns(
        pl.col(n).cast(pl.String).fill_null(SMALL_CELL_TEXT) for n in numeric
    )


def chart_and_table(fig, frame: pl.DataFrame, file_stem: str, key: str,
                    link_profiles: bool = False) -> None:
    """A chart with its table alternative (and CSV of exactly that table) in two tabs."""
    tab_chart, tab_table = st.tabs([t("common.chart"), t("common.table")])
    tab_chart.plotly_chart(fig, key=f"chart_{key}", config={"displaylogo": False})
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
    return {k: t(f"progress.{k}") for k in keys}


def log_export(file_name: str) -> None:
    """Download-button callback: every export lands in the audit log (file name, no content)."""
    audit.log_event(st.session_state.get("user", "öffentlich"), "export", {"datei": file_name})


def open_profile(kommune_id: str) -> None:
    """Go to a commune's profile in this session (absolute path: Streamlit resolves relative
    page paths against the entry point's folder, dashboard/)."""
    st.switch_page(PAGES_DIR / "kommune.py", query_params={"kommune": kommune_id})


def table_with_download(frame: pl.DataFrame, file_stem: str, key: str,
                        link_profiles: bool = False) -> None:
    """Show a table and offer exactly that data as German Excel CSV.

    With `link_profiles`, choosing a row opens that commune's profile (by its `AGS` column) in
    the same session; a link in a new tab would lose the sign-in.
    """
    if viewer().role == "public":
        frame = show_suppressed(frame)
        link_profiles = False  # the public has no profile pages
    event = st.dataframe(frame, hide_index=True, column_config=column_config(frame),
                         key=f"table_{key}", on_select="rerun" if link_profiles else "ignore",
                         selection_mode="single-row")
    if link_profiles:
        st.caption(t("common.row_opens_profile"))
        rows = event.selection.rows if event and event.selection else []
        if rows:
            open_profile(frame[PROFILE_KEY][rows[0]])
    st.download_button(t("common.download"), to_excel_csv_bytes(frame),
                       file_name=f"{file_stem}.csv", mime="text/csv", key=key,
                       icon=":material/download:", on_click=log_export,
                       args=(f"{file_stem}.csv",))
