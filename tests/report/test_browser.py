"""Open the reports in a real headless Chromium (Debian's ``chromium``) over DevTools.

Checks on index.html, every run page and every stakeholder report: no console
errors or failed loads, every image loaded, no code cell visible, table-of-
contents links resolve, relative links point at files that exist, and a
customer id like ``<script>`` renders as text without running.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]
CHECKS = """(() => {
  const visible = (el) => el.getClientRects().length > 0;
  const code = document.querySelectorAll(
    '.jp-CodeCell .jp-InputArea, .jp-CodeCell .jp-Cell-inputWrapper, .jp-InputPrompt, '
    + '.jp-Editor, .CodeMirror');
  const target = (id) =>
    document.getElementById(id) || document.getElementById(decodeURIComponent(id));
  const toc = Array.from(document.querySelectorAll('nav.churnlab-toc a'));
  return JSON.stringify({
    images: Array.from(document.images).map((i) => ({complete: i.complete, width: i.naturalWidth})),
    visibleCode: Array.from(code).filter(visible).length,
    tocLinks: toc.length,
    // as browsers do: the fragment as written, then percent-decoded
    // a TOC entry must lead to a heading the reader can see
    brokenToc: toc.map((a) => a.getAttribute('href').slice(1))
                  .filter((id) => !target(id) || !visible(target(id))),
    links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')),
    cells: Array.from(document.querySelectorAll('td')).map((td) => td.textContent),
    scripts: Array.from(document.querySelectorAll('script[src]')).map((s) => s.src),
    title: document.title,
    frames: document.querySelectorAll('iframe, object, embed').length,
    // where the last visible table ends (the executive summary's action table)
    lastTableBottom: Math.max(0, ...Array.from(document.querySelectorAll('table')).filter(visible)
      .map((t) => t.getBoundingClientRect().bottom + window.scrollY)),
  });
})()"""


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, **params: object) -> dict:
        """Send a command and return its result, keeping events that arrive meanwhile."""
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict) -> None:
        self.events.append(message)
        if message.get("method") == "Page.javascriptDialogOpening":
            self.ws.send(
                json.dumps(
                    {
                        "id": next(self.ids),
                        "method": "Page.handleJavaScriptDialog",
                        "params": {"accept": True},
                    }
                )
            )

    def open(self, url: str) -> dict:
        """Navigate, wait for the load event, return the page checks and problems seen."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            assert time.monotonic() < deadline, f"{url} did not load"
            self._event(json.loads(self.ws.recv()))
        time.sleep(0.3)  # let late console messages arrive
        self.call("Runtime.evaluate", expression="1")
        result = self.call("Runtime.evaluate", expression=CHECKS, returnByValue=True)
        checks = json.loads(result["result"]["value"])
        checks["problems"] = [self._problem(e) for e in self.events if self._problem(e)]
        return checks

    @staticmethod
    def _problem(event: dict) -> str | None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            return f"console.{params['type']}: {params.get('args')}"
        if method == "Runtime.exceptionThrown":
            return f"exception: {params.get('exceptionDetails', {}).get('text')}"
        if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            return f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}"
        if method == "Page.javascriptDialogOpening":
            return f"dialog opened: {params.get('message')}"
        if method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "about:")):
                return f"request sent: {url}"
        return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):  # .ci/run installs it: in CI a missing browser is a failure
            pytest.fail("headless Chromium is missing although .ci/run installs it")
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, "chromium exited at start-up"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as reply:
            pages = [t for t in json.load(reply) if t["type"] == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.call(f"{domain}.enable")
        yield tools
        tools.ws.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _pages(reports: Path) -> list[Path]:
    pages = [reports / "index.html"]
    for run in sorted(p for p in reports.iterdir() if p.is_dir() and not p.is_symlink()):
        pages += sorted(p for p in run.glob("*.html") if not p.name.endswith(".debug.html"))
    return pages


def _check(browser: DevTools, page: Path) -> dict:
    checks = browser.open(page.as_uri())
    assert not checks["problems"], f"{page.name}: {checks['problems']}"
    assert not checks["scripts"], f"{page.name} loads external scripts: {checks['scripts']}"
    for image in checks["images"]:
        assert image["complete"] and image["width"] > 0, f"{page.name}: image not loaded"
    assert checks["visibleCode"] == 0, f"{page.name}: code is visible"
    assert not checks["brokenToc"], f"{page.name}: TOC targets missing {checks['brokenToc']}"
    for href in checks["links"]:
        if href.startswith("#") or "://" in href:
            continue
        assert (page.parent / href.split("#")[0]).exists(), f"{page.name}: broken link {href}"
    return checks


def test_tiny_run_in_browser(browser: DevTools, published) -> None:
    reports = published.run_dir.parent
    for page in _pages(reports):
        checks = _check(browser, page)
        if page.name == "00-alpha.html":
            assert "<script>alert(1)</script>" in checks["cells"]  # shown as text, not run
            assert checks["tocLinks"] == 3
            assert len(checks["images"]) == 1


@pytest.mark.slow
def test_notebook_reports_in_browser(browser: DevTools, full_runs, tmp_path_factory) -> None:
    import base64

    from churnlab import config

    names = sorted(p.stem for p in config.NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
    pages = _pages(full_runs.run_dir(1).parent)
    shots = Path(os.environ.get("CHURNLAB_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    assert len(pages) > 1
    # a laptop screen: the executive summary must end its last table within two of them
    screen = {"width": 1280, "height": 1024, "deviceScaleFactor": 1, "mobile": False}
    browser.call("Emulation.setDeviceMetricsOverride", **screen)
    for page in pages:
        checks = _check(browser, page)
        if page.name == "90-executive-summary.html":
            assert checks["tocLinks"] == 0  # a two-screen page needs no contents box
            assert 0 < checks["lastTableBottom"] <= 2 * screen["height"], checks["lastTableBottom"]
        elif page.name in {f"{n}.html" for n in names}:
            assert checks["tocLinks"] > 0, f"{page.name} has no table of contents"
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        png = base64.b64decode(shot["data"])
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, f"{page.name}: blank screenshot"
        (shots / f"{page.parent.name}-{page.stem}.png").write_bytes(png)


HOSTILE = '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>'
HOSTILE_TEXT = [
    HOSTILE,
    '<a href="&#106;avascript:alert(2)">Price</a>',
    "<img src=x onerror=\"document.title='pwned'\">",
    "[Service](javascript:alert(3))",
]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory):
    """Notebook 40 on a log with hostile ids, a hostile file name and hostile reasons."""
    import numpy as np
    import pandas as pd

    from churnlab import config
    from churnlab.report import ReportConfig, ReportParameters, run_report

    root = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(7)
    ids = [f"<b onmouseover=alert({i})>c{i}</b>" for i in range(80)]
    rows = [
        (cid, pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(d)), float(rng.gamma(2, 20)))
        for i, cid in enumerate(ids)
        for d in np.sort(rng.integers(0, 200 if i % 2 else 400, size=int(rng.integers(2, 8))))
    ]
    log = root / "<img src=x onerror=alert(9)>.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(log, index=False)
    reasons = root / "reasons.csv"
    pd.DataFrame(
        {
            "customer_id": ids[::2],
            "category": [HOSTILE_TEXT[i % 4] for i in range(40)],
            "reason": [HOSTILE_TEXT[(i + 1) % 4] for i in range(40)],
        }
    ).to_csv(reasons, index=False)
    run_config = ReportConfig(
        notebooks=("40",),
        notebooks_dir=config.NOTEBOOKS_DIR,
        output_dir=root / "reports",
        parameters=ReportParameters(data_source=str(log)),
        notebook_parameters={"40": {"reasons_source": str(reasons)}},
        cell_timeout=300,
        progress=False,
    )
    return run_report(run_config)


@pytest.mark.slow
def test_hostile_reasons_ids_and_path_stay_inert(browser: DevTools, hostile_run) -> None:
    page = hostile_run.run_dir / "40-churn-reasons.html"
    text = page.read_text(encoding="utf-8")
    assert "<iframe" not in text
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*(javascript|&#)""", text, re.I)
    checks = _check(browser, page)  # fails on any dialog, console error or request
    assert checks["frames"] == 0
    assert checks["title"] != "pwned"
    body = browser.call(
        "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
    )["result"]["value"]
    assert "<iframe" in body  # the hostile category is shown to the reader as text
