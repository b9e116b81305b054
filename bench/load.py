"""Load benchmark: N concurrent sessions against one server, with real-browser probes.

    .venv/bin/python bench/load.py                                   # demo data, 10/25/50
    .venv/bin/python bench/load.py --national bench/out/national     # + national data
    .venv/bin/python bench/load.py --sizes 2,5 --probes 1            # a quick check
    .venv/bin/python bench/load.py --think 0,10                      # burst and 10 s reading
    .venv/bin/python bench/load.py --sizes 10 --write                # table into results.md

On 2 cores, 50 browsers would measure the browsers. The load comes from light clients
(bench/stclient.py) that speak Streamlit's WebSocket protocol and run the page scripts exactly as
a browser session does: a third public visitors, a third communes, a third programme staff
(signed in with the session cookie), each opening three pages of its role one after the other,
then staying open (idle) until all are done. The server is started as deployed
(`python -m dashboard.serve dashboard/server.py`, deploy/monitor@.service). While they run, one
Chromium probe at a time
(Debian's /usr/bin/chromium) opens the overview in a fresh context and measures the time to the
first key figure. Every level is preceded by the same probe and session alone (the
single-session figure of this run), so the ratios compare like with like on a busy machine.

By default every session opens its pages back to back and all start at once (a burst, the worst
case: 50 sessions = 150 script runs at once). `--think SECONDS` lets each session read before
each page view (exponential with that mean, seeded by `--seed`), as people do; both are
reported in separate, labelled tables against the same goal.

Reported per level: p50/p95 of the probes and of the light sessions' script runs (each next to
the single-session figure), errors, server RSS before / peak during / idle with all sessions
open / 5 s after they closed, memory per idle session, and the load average; once per data
set, RSS after Streamlit's reconnect window for closed sessions (120 s, `--settle`) has passed.
Loopback only; bounded: at most `--sizes` sessions × 3 pages per level, and `--probes` Chromium
loads per level; no script run or probe waits longer than `--timeout` seconds. Every failure
is listed by role and page (`public/karte: …`); when the server stops answering its health
check (a frozen process, as the polars UDF deadlock was: see `dashboard.fmt.texts`) the run
says so and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench import _measure, stclient  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "last-test-passwort"
# (role, pages a session of that role opens in turn); "" is the start page
MIX = (
    ("public", ("", "karte", "module")),
    ("kommune", ("kommune", "vernetzung", "")),
    ("staff", ("", "fortschritt", "kommune")),
)
LOGOUT = "Abmelden"  # the account box's button: shown only to a signed-in session
RESULTS = ROOT / "bench" / "results.md"
SECTION = "## Load (issue #13)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of the server process in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Server:
    """One `streamlit run dashboard/server.py` on a free loopback port."""

    def __init__(self, db: Path, workdir: Path, module: str = "dashboard.serve",
                 env: dict[str, str] | None = None) -> None:
        from dashboard import auth

        self.users = workdir / "users.toml"
        if not self.users.exists():
            auth.add_account("team", PASSWORD, "staff", path=self.users)
        self.db = db
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "WK_DB": str(db), "WK_USERS": str(self.users),
               "WK_AUDIT": str(workdir / "audit.jsonl"), **(env or {})}
        self.log_path = workdir / f"server-{self.port}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "dashboard/server.py",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/_stcore/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError("server did not start")

    def cookie(self, user: str, password: str, timeout: float) -> str:
        run = asyncio.run(stclient.sign_in(self.url, user, password, timeout=timeout))
        if not run.redirect:
            raise RuntimeError(f"sign-in of {user} failed: {run.errors or run.texts[-3:]}")
        response = requests.get(self.url + run.redirect, allow_redirects=False, timeout=30)
        return response.cookies["wk_sitzung"]

    def healthy(self, timeout: float = 10) -> bool:
        """Whether the server still answers its health check (a frozen process does not)."""
        try:
            return requests.get(f"{self.url}/_stcore/health", timeout=timeout).ok
        except requests.RequestException:
            return False

    def wait_warm(self, timeout: float = 600) -> None:
        """Until the background warm-up (dashboard.warmup) reports its caches ready (and the
        heap frozen, gc)."""
        self.log.flush()
        _measure.wait_warm(self.log_path, timeout)

    def log_tail(self, lines: int = 15) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def rss(self) -> float:
        return rss_mib(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.log.close()


@dataclass
class Level:
    sessions: int
    runs: list[float] = field(default_factory=list)
    probes: list[float] = field(default_factory=list)
    painted: list[float] = field(default_factory=list)  # the probes' in-page paint marks
    errors: list[str] = field(default_factory=list)  # "role/page: what happened"
    rss_before: float = 0.0
    rss_peak: float = 0.0
    rss_idle: float = 0.0
    rss_after: float = 0.0
    load: str = ""


def probe_once(url: str, timeout: float) -> tuple[float, float]:
    """Seconds from navigation to the first key figure (the overview's first `st.metric`) in a
    fresh Chromium context: by Playwright's check, and by the in-page paint mark
    (bench/pages.paint_mark: the first frame after the figure is laid out, timed in the page,
    not held up by Playwright's polling of a busy page)."""
    from playwright.sync_api import sync_playwright

    from bench.pages import paint_mark

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="de-DE")
            selector = '[data-testid="stMetricValue"]'
            page.add_init_script(paint_mark(("selector", selector)))
            started = time.perf_counter()
            page.goto(url, wait_until="commit", timeout=timeout * 1000)
            page.locator(selector).first.wait_for(timeout=timeout * 1000)
            seconds = time.perf_counter() - started
            painted = page.wait_for_function("window.__wkPainted", timeout=timeout * 1000)
            return seconds, painted.json_value() / 1000
        finally:
            browser.close()


def pauses(think: float, pages: int, seed: int, index: int) -> list[float]:
    """Reading time before each page view of session `index`: exponential with mean `think`
    (capped at 5× the mean), the same for the same seed; none for a burst (think 0). The pause
    before the first page spreads the sessions' arrivals too."""
    if think <= 0:
        return [0.0] * pages
    rng = random.Random(f"{seed}/{index}")
    return [min(rng.expovariate(1 / think), 5 * think) for _ in range(pages)]


async def _session(url: str, role: str, pages: tuple[str, ...], cookies: dict[str, dict],
                   level: Level, done: asyncio.Event, ready: list[int], timeout: float,
                   waits: list[float] | None = None) -> None:
    session = stclient.Session(url, cookies.get(role))
    try:
        await session.open(timeout)
        for page, wait in zip(pages, waits or [0.0] * len(pages), strict=True):
            await asyncio.sleep(wait)  # reading the previous page
            run = await session.rerun(page, timeout=timeout)
            where = f"{role}/{page or 'start'}"
            if run.timed_out:
                level.errors += [f"{where}: {e}" for e in run.errors]
                break  # the session is stuck or gone: its other pages would only wait too
            level.runs.append(run.seconds)
            level.errors += [f"{where}: {e}" for e in run.errors]
            if role in cookies and LOGOUT not in run.widgets:
                # a refused cookie would silently measure the public sign-in form instead
                level.errors.append(f"{where}: not signed in (session cookie not accepted)")
    except Exception as exc:  # a refused or timed-out connection counts as an error
        level.errors.append(f"{role}/connect: {type(exc).__name__}: {exc}")
    ready.append(1)
    await done.wait()  # stay open (idle) until every session has finished
    await session.close()


async def _load(url: str, n: int, cookies: dict[str, dict], level: Level,
                server: Server, timeout: float, think: float = 0.0, seed: int = 0) -> None:
    done = asyncio.Event()
    ready: list[int] = []
    tasks = [asyncio.create_task(_session(
        url, *MIX[i % len(MIX)], cookies, level, done, ready, timeout,
        pauses(think, len(MIX[i % len(MIX)][1]), seed, i)))
        for i in range(n)]
    while len(ready) < n:
        level.rss_peak = max(level.rss_peak, server.rss)
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # idle: every session open, no script running
    level.rss_idle = server.rss
    done.set()
    await asyncio.gather(*tasks)


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def run_level(server: Server, n: int, cookies: dict[str, dict], probes: int,
              timeout: float, think: float = 0.0, seed: int = 0) -> Level:
    level = Level(n, rss_before=server.rss)
    stop = threading.Event()
    started = time.monotonic()
    # with think time the sessions are busy for about (pages × think) seconds: spread the
    # probes over that span instead of probing only the first arrivals
    span = max(len(pages) for _, pages in MIX) * think

    def probing() -> None:
        for i in range(probes):  # attempts, not successes: a failing probe cannot loop
            while not stop.is_set() and time.monotonic() - started < i * span / probes:
                time.sleep(0.2)
            if stop.is_set():
                return
            try:
                seconds, painted = probe_once(server.url, 2 * timeout)
                level.probes.append(seconds)
                level.painted.append(painted)
            except Exception as exc:
                level.errors.append(f"probe/start: {_first_line(exc)}")

    thread = threading.Thread(target=probing)
    thread.start()
    asyncio.run(_load(server.url, n, cookies, level, server, timeout, think, seed))
    stop.set()
    thread.join()
    level.load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    # sessions closed: Streamlit drops them; give it a moment, then measure what is left
    time.sleep(5)
    level.rss_after = server.rss
    return level


def single(server: Server, cookies: dict[str, dict], timeout: float) -> Level:
    """The same page mix with one session of each role in turn, and one probe, alone."""
    level = Level(1, rss_before=server.rss)
    for role, pages in MIX:
        asyncio.run(_load_one(server.url, role, pages, cookies, level, timeout))
    try:
        seconds, painted = probe_once(server.url, 2 * timeout)
        level.probes.append(seconds)
        level.painted.append(painted)
    except Exception as exc:
        level.errors.append(f"probe/start: {_first_line(exc)}")
    level.rss_after = server.rss
    level.load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return level


async def _load_one(url: str, role: str, pages: tuple[str, ...], cookies: dict[str, dict],
                    level: Level, timeout: float) -> None:
    done = asyncio.Event()
    done.set()
    await _session(url, role, pages, cookies, level, done, [], timeout)


def sign_in_all(server: Server, timeout: float) -> dict[str, dict]:
    """Session cookies of a staff member and of a commune account (created here)."""
    from dashboard import auth, data

    os.environ["WK_DB"] = str(server.db)
    kommune = data.demo_account_communes(1)["kommune_id"][0]
    auth.add_account("lemgo", PASSWORD, "kommune", kommune, path=server.users)
    return {"staff": {"wk_sitzung": server.cookie("team", PASSWORD, timeout)},
            "kommune": {"wk_sitzung": server.cookie("lemgo", PASSWORD, timeout)}}


def error_summary(label: str, level: Level) -> list[str]:
    """The level's errors grouped by role/page and message, most frequent first."""
    if not level.errors:
        return []
    counts = collections.Counter(level.errors)
    return [f"  errors {label} ({len(level.errors)}):",
            *(f"    {count}× {error}" for error, count in counts.most_common())]


def table(name: str, rows: list[tuple[Level, Level]]) -> str:
    lines = [
        f"**{name}**", "",
        "| sessions | probe p50 / p95 s (alone) | p95 ratio | paint mark p50 / p95 s (alone) "
        "| p95 ratio | script run p50 / p95 s (alone) "
        "| errors | RSS MiB before / peak / idle / after | MiB per idle session | load avg |",
        "|---:|---|---:|---|---:|---|---:|---|---:|---|",
    ]
    for alone, level in rows:
        probe_alone, mark_alone = pct(alone.probes, 0.5), pct(alone.painted, 0.5)
        per_session = (level.rss_idle - level.rss_before) / level.sessions
        lines.append(
            f"| {level.sessions} | {pct(level.probes, .5):.2f} / {pct(level.probes, .95):.2f} "
            f"({probe_alone:.2f}) | {pct(level.probes, .95) / probe_alone:.1f}× "
            f"| {pct(level.painted, .5):.2f} / {pct(level.painted, .95):.2f} "
            f"({mark_alone:.2f}) | {pct(level.painted, .95) / mark_alone:.1f}× "
            f"| {pct(level.runs, .5):.2f} / {pct(level.runs, .95):.2f} "
            f"({pct(alone.runs, .5):.2f} / {pct(alone.runs, .95):.2f}) "
            f"| {len(level.errors)} | {level.rss_before:.0f} / {level.rss_peak:.0f} / "
            f"{level.rss_idle:.0f} / {level.rss_after:.0f} | {per_session:.1f} | {level.load} |")
    return "\n".join(lines)


def think_label(think: float, seed: int) -> str:
    if think <= 0:
        return ("burst: no think time (worst case: every session opens its three pages back to "
                "back, all sessions at once)")
    return (f"think time: mean {think:g} s before each page view (exponential, capped at "
            f"{5 * think:g} s, seed {seed}; the first pause spreads the arrivals)")


def bench(db: Path, sizes: list[int], probes: int, name: str, timeout: float,
          thinks: list[float], seed: int, settle: float) -> str:
    if not db.exists():
        raise SystemExit(f"{db} does not exist (see --help for how to build it)")
    with tempfile.TemporaryDirectory(prefix="wk-load-") as tmp:
        server = Server(db, Path(tmp))
        try:
            setup = max(timeout, 120)  # sign-in and warm-up are not measured: cold starts are slow
            cookies = sign_in_all(server, setup)
            server.wait_warm(setup)
            warm = single(server, cookies, setup)  # imports, caches, first database open
            for line in error_summary("in the warm-up", warm):
                print(line, flush=True)
            if warm.errors:
                # a page that does not finish even alone only piles up under load (and every
                # further attempt starts the same slow work again): report, do not measure
                print(f"  server log ({server.log_path.name}, last lines):\n" + server.log_tail(),
                      flush=True)
                return (f"**{name}**\n\nNot measured: the warm-up (one session of each role "
                        "and one probe, alone) failed:\n\n"
                        + "\n".join(f"- {count}× {error}" for error, count
                                     in collections.Counter(warm.errors).most_common()))
            baseline = server.rss
            parts = []
            notes = []
            stopped = False
            for think in thinks:
                title = f"{name}, {think_label(think, seed)}"
                rows = []
                for n in sizes:
                    alone = single(server, cookies, timeout)
                    level = run_level(server, n, cookies, probes, timeout, think, seed)
                    if not server.healthy():
                        level.errors.append("server: no answer to /_stcore/health within 10 s "
                                            "(the process is frozen)")
                    rows.append((alone, level))
                    print(table(title, rows[-1:]), flush=True)
                    where = f"think {think:g} s, " if think else ""
                    for label, part in ((f"{where}alone (before {n})", alone),
                                        (f"{where}{n} sessions", level)):
                        for line in error_summary(label, part):
                            print(line, flush=True)
                        notes += [f"{label}: {count}× {error}" for error, count
                                  in collections.Counter(part.errors).most_common()]
                    if alone.errors or level.errors:
                        print(f"  server log ({server.log_path.name}, last lines):\n"
                              + server.log_tail(), flush=True)
                    if not server.healthy():
                        print("  stopped: the server does not answer any more", flush=True)
                        stopped = True
                        break
                parts.append(table(title, rows))
                if stopped:
                    break
            text = "\n\n".join(parts)
            text += f"\n\nServer RSS after warm-up (baseline): {baseline:.0f} MiB."
            if not stopped and settle > 0:
                # Streamlit keeps a closed session for reconnect (server.disconnectedSessionTTL,
                # 120 s); dashboard.housekeeping frees it within WK_HOUSEKEEPING_SECONDS after
                print(f"  waiting {settle:g} s for the reconnect window to pass ...", flush=True)
                time.sleep(settle)
                released = server.rss
                window = ("Streamlit's reconnect window of 120 s is over, the housekeeping "
                          "has run" if settle >= 150 else
                          "NOT comparable with the goal: within Streamlit's 120 s reconnect "
                          "window")
                text += (f" {settle:g} s after the last sessions closed ({window}): "
                         f"{released:.0f} MiB ({released - baseline:+.0f} MiB; goal: within "
                         f"+150 MB).")
            if notes:
                text += "\n\nErrors:\n\n" + "\n".join(f"- {note}" for note in notes)
            return text
        finally:
            server.stop()


LEGEND = """\
Measured {date} UTC on a {cores}-core machine; load average before the run {load} (the
benchmark itself, i.e. server, light clients and Chromium, brings it to 3–6 on 2 cores; more
means other work shared the machine). One server started as deployed (`python -m
dashboard.serve dashboard/server.py`: warm-up, memory housekeeping), light WebSocket sessions
(bench/stclient.py: a third public, a third commune, a third staff with the session cookie;
each opens three pages of its role, then stays open idle until all are done), one Chromium
probe at a time measuring navigation → first key figure of the overview.

Columns: *probe* = seconds to the first key figure in Chromium while the sessions run, p50 /
p95, in brackets the same probe alone right before the level; *p95 ratio* = probe p95 under
load / probe alone (**goal: ≤ 3× at 50 sessions**); *paint mark* = the same probes timed in the
page (first frame after the figure is laid out, bench/pages.paint_mark), with its own ratio;
*script run* = one light session's page run
(request → `script_finished`), in brackets alone; *RSS* = server memory before the level / peak
/ with all sessions open and idle / 5 s after they closed (Streamlit still keeps closed
sessions for reconnect then); *MiB per idle session* = (idle − before) / sessions. The line
below each data set gives RSS once the reconnect window is over (**goal: within 150 MB of the
baseline**). *Burst* tables are the worst case (every session clicks without reading); *think
time* tables let each session read before each page view, as people do. The goal is the same
for both; they are reported separately. National data: `python -m tools.demo --kommunen
11000 --events 1000000 --out DIR/input`, `python -m etl build --input DIR/input --output
DIR/monitor.duckdb --max-mb 500`."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "monitor.duckdb")
    parser.add_argument("--national", type=Path,
                        help="folder holding monitor.duckdb, built with `python -m tools.demo "
                             "--kommunen 11000 --events 1000000 --out DIR/input` and `python -m "
                             "etl build --input DIR/input --output DIR/monitor.duckdb --max-mb "
                             "500`")
    parser.add_argument("--sizes", default="10,25,50")
    parser.add_argument("--probes", type=int, default=3)
    parser.add_argument("--think", default="0", metavar="SECONDS[,SECONDS]",
                        help="mean reading time before each page view (exponential, seeded); "
                             "0 = burst, the worst case (default); several, e.g. 0,10, give one "
                             "table each")
    parser.add_argument("--seed", type=int, default=13, help="seed of the think times")
    parser.add_argument("--settle", type=float, default=160,
                        help="seconds to wait after the last level before the final RSS "
                             "(Streamlit's reconnect window is 120 s; 0 skips); default "
                             "%(default)s")
    parser.add_argument("--timeout", type=float, default=120,
                        help="seconds one script run of a light session may take (a probe: "
                             "twice that); default %(default)s")
    parser.add_argument("--write", action="store_true", help=f"replace {SECTION} in results.md")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    thinks = [float(x) for x in args.think.split(",")]
    legend = LEGEND.format(date=time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                           cores=os.cpu_count(),
                           load=" ".join(f"{x:.1f}" for x in os.getloadavg()))
    options = (sizes, args.probes)
    rest = (args.timeout, thinks, args.seed, args.settle)
    parts = [bench(args.db, *options, "Demo data (40 communes)", *rest)]
    if args.national:
        parts.append(bench(args.national / "monitor.duckdb", *options,
                           "National data (11,000 communes, 1,000,000 events)", *rest))
    text = "\n\n".join([legend, *parts])
    print(text)
    if args.write:
        body = RESULTS.read_text(encoding="utf-8")
        head = body.split(SECTION)[0].rstrip()
        cmd = "python bench/load.py " + " ".join(sys.argv[1:]).replace("--write", "").strip()
        RESULTS.write_text(f"{head}\n\n{SECTION} – `{cmd}`\n\n{text}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
