"""The built book in a real browser: every page loads offline, every formula is typeset by the MathJax
that ships with the build (no math error), and every image loads. At a desktop width (a 1280 px wide
window) every display equation fits its column (MathJax 3 does not break lines: a long one needs
``aligned``), every chapter's title carries its number on its page and in the sidebar, and each
notebook's Colab install cell is collapsed (cell tag ``hide-input``) with its stamp shown.

Runs after the book is built (``make test`` does this last); ``GENLEARN_BOOK`` points at the HTML
folder (default ``_build/html``). Needs Chromium (Debian: ``apt-get install chromium``); without it
the test is skipped with that one line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = Path(os.environ.get("GENLEARN_BOOK", ROOT / "_build" / "html")).resolve()
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed; install it (Debian: apt-get install chromium) to test the built book")

CHECK_PAGE = """(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  await document.fonts.ready;
  const math = [...document.querySelectorAll('.math')];
  const items = window.MathJax && MathJax.startup && MathJax.startup.document ? [...MathJax.startup.document.math] : [];
  const tex = c => {
    const i = items.find(i => i.typesetRoot === c);
    return i ? i.math.trim().replace(/\\s+/g, ' ').slice(0, 100) : '?';
  };
  const shown = e => !!e && e.checkVisibility();
  const text = e => e ? e.textContent.trim() : '';
  const h1 = document.querySelector('article h1');
  const cell = document.querySelector('article div.cell');
  const input = cell && cell.querySelector('.cell_input'), output = cell && cell.querySelector('.cell_output');
  return JSON.stringify({
    width: window.innerWidth,
    // display equations wider than their column (the theme scrolls them sideways): [scroll width, column width, TeX]
    wide: [...document.querySelectorAll('mjx-container[display="true"]')]
      .filter(c => shown(c) && c.scrollWidth > c.clientWidth + 1).map(c => [c.scrollWidth, c.clientWidth, tex(c)]),
    // the page's title without its "#" link, and the sidebar's [link, title] pairs
    title: h1 ? [...h1.childNodes].filter(n => !(n.classList && n.classList.contains('headerlink')))
      .map(n => n.textContent).join('').trim() : '',
    sidebar: [...document.querySelectorAll('nav.bd-docs-nav a.reference.internal')]
      .map(a => [a.getAttribute('href'), text(a)]),
    // the first code cell of a notebook page: its source (shown or not) and its output
    cell: cell ? {source: text(input).slice(0, 60), sourceShown: shown(input && input.querySelector('pre')),
                  output: text(output).slice(0, 60), outputShown: shown(output && output.querySelector('pre'))} : null,
    mathjax: !!(window.MathJax && MathJax.version),
    scripts: [...document.scripts].map(s => s.src).filter(s => /mathjax/i.test(s)),
    math: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)).slice(0, 5),
    errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src).slice(0, 5),
  });
})()"""


class DevToolsError(RuntimeError):
    """An error reply of the DevTools protocol."""


class Browser:
    """Headless Chromium driven over the DevTools protocol (one page, flattened session)."""

    def __init__(self) -> None:
        import websocket  # websocket-client

        self.profile = tempfile.mkdtemp(prefix="genlearn-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--allow-file-access-from-files", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        url, deadline = None, time.time() + 60
        while url is None and time.time() < deadline:
            line = self.proc.stderr.readline()
            if "DevTools listening on" in line:
                url = line.split("DevTools listening on", 1)[1].strip()
        assert url, "Chromium did not start its DevTools endpoint"
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)  # Chromium 111+ refuses a DevTools socket with an Origin it was not told to allow
        self.next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=1280, height=1600, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, session: bool = False, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise DevToolsError(reply["error"])
                return reply["result"]

    def open(self, path: Path) -> dict:
        self.call("Page.navigate", session=True, url=path.as_uri())
        deadline = time.time() + 60
        while True:
            try:
                if self.evaluate("document.readyState") == "complete":
                    break
            except DevToolsError as e:  # asked while the old page was being replaced: ask again
                if "navigated or closed" not in str(e) and "context" not in str(e):
                    raise
            assert time.time() < deadline, f"{path} did not finish loading"
            time.sleep(0.05)
        return json.loads(self.evaluate(CHECK_PAGE, await_promise=True))

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self.call("Runtime.evaluate", session=True, expression=expression, awaitPromise=await_promise, returnByValue=True)
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        import base64

        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", session=True, format="png")["data"]))

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


def pages() -> list[Path]:
    return sorted(p for p in BOOK.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts and p.name != "search.html")


@pytest.fixture(scope="module")
def browser():
    if not (BOOK / "index.html").is_file():
        pytest.fail(f"no built book at {BOOK}; build it first (make book) or set GENLEARN_BOOK")
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def visits(browser) -> dict[str, dict]:
    """What each page of the build shows, by its path in the build (each page opened once)."""
    return {page.relative_to(BOOK).as_posix(): browser.open(page) for page in pages()}


def chapter_pages(visits: dict[str, dict]) -> dict[str, dict]:
    """The notebook chapters' pages, by path (notebooks/NN_name.html)."""
    found = {name: r for name, r in visits.items() if re.fullmatch(r"notebooks/\d\d_\w+\.html", name)}
    assert len(found) == len(list((ROOT / "notebooks").glob("*.ipynb"))), sorted(found)
    return found


def test_every_page_typesets_its_math_offline_and_loads_its_images(browser, visits):
    assert (BOOK / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is not shipped with the build"
    assert len(visits) >= 9, sorted(visits)  # the intro, how-to, notation, seven chapters, bibliography
    math_pages, problems = 0, []
    for name, r in visits.items():
        if r["math"]:
            math_pages += 1
            if not r["mathjax"]:
                problems.append(f"{name}: MathJax did not load ({r['scripts']})")
            if any(not s.startswith("file:") for s in r["scripts"]):
                problems.append(f"{name}: MathJax comes from the network: {r['scripts']}")
            if r["untypeset"]:
                problems.append(f"{name}: formulas left as raw TeX: {r['untypeset']}")
        if r["errors"]:
            problems.append(f"{name}: MathJax errors: {r['errors']}")
        if r["broken"]:
            problems.append(f"{name}: images that did not load: {r['broken']}")
    assert not problems, "\n".join(problems)
    assert math_pages >= 6  # every chapter with equations was checked, not skipped
    chapter = BOOK / "notebooks" / "05_wgan_gp.html"
    if chapter.is_file():
        browser.open(chapter)
        browser.screenshot(BOOK.parent / "screenshot-05_wgan_gp.png")


def test_display_equations_fit_their_column_at_desktop_width(visits):
    """MathJax 3 does not break a long display equation: at 1280 px it scrolls sideways. Split it with aligned."""
    assert {r["width"] for r in visits.values()} == {1280}
    wide = [f"{name}: {w} px in a {cw} px column: {tex}" for name, r in visits.items() for w, cw, tex in r["wide"]]
    assert not wide, "display equations wider than their column (break them with \\begin{aligned}):\n" + "\n".join(wide)


def test_every_chapter_title_carries_its_number_on_its_page_and_in_the_sidebar(visits):
    problems = []
    for name, r in chapter_pages(visits).items():
        number = f"{int(name.split('/')[1][:2])}. "
        if not r["title"].startswith(number):
            problems.append(f"{name}: page title {r['title']!r} does not start with {number!r}")
    # the root page (index.html only redirects to it: read there, its sidebar depends on whether the redirect won the race)
    root = "book/intro.html"
    sidebar = {Path(href).name: label for href, label in visits[root]["sidebar"]}
    for name in chapter_pages(visits):
        page, number = Path(name).name, f"{int(Path(name).name[:2])}. "
        if page not in sidebar:
            problems.append(f"{root}: the sidebar does not list {page}")
        elif not sidebar[page].startswith(number):
            problems.append(f"{root}: sidebar title {sidebar[page]!r} of {page} does not start with {number!r}")
    assert not problems, "\n".join(problems)


def test_every_notebooks_install_cell_is_collapsed_and_its_stamp_shown(visits):
    """The first code cell installs genlearn on Colab only: in the book its source is behind a toggle (hide-input)."""
    problems = []
    for name, r in chapter_pages(visits).items():
        cell = r["cell"]
        if cell is None or not cell["output"].startswith("genlearn stamp:"):
            problems.append(f"{name}: the first code cell is not the install cell with its stamp: {cell}")
            continue
        if cell["sourceShown"]:
            problems.append(
                f"{name}: the install cell's source is shown expanded ({cell['source']!r}): tag it hide-input"
            )
        if not cell["outputShown"]:
            problems.append(f"{name}: the install cell's stamp is not shown")
    assert not problems, "\n".join(problems)
