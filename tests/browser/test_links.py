"""Offline link check of the built book: every internal link and image of every page points at a file of the build,
and every #anchor at an id on the target page. External links are not followed (the weekly workflow checks the
dataset and weights URLs). Runs after the book is built; ``GENLEARN_BOOK`` points at the HTML folder."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = Path(os.environ.get("GENLEARN_BOOK", ROOT / "_build" / "html")).resolve()


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("preconnect", "dns-prefetch")):
                self.links.append(a[key])


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def internal_targets(page_path: Path, links: list[str]) -> list[tuple[str, Path, str]]:
    """(link, file, anchor) for each link that stays inside the build."""
    out = []
    for link in links:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
            continue
        target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        out.append((link, target, unquote(parts.fragment)))
    return out


@pytest.fixture(scope="module")
def pages() -> dict[Path, Page]:
    if not (BOOK / "index.html").exists():
        pytest.fail(f"no built book at {BOOK}: run make book (or set GENLEARN_BOOK)")
    # _static/ holds the theme's HTML templates, not pages
    return {p.resolve(): parse(p) for p in BOOK.rglob("*.html") if "_static" not in p.relative_to(BOOK).parts}


def test_every_internal_link_and_anchor_resolves(pages):
    broken = []
    for path, page in pages.items():
        for link, target, anchor in internal_targets(path, page.links):
            if not target.exists():
                broken.append(f"{path.relative_to(BOOK)}: {link} (no file)")
            elif anchor and target.suffix == ".html" and anchor not in (pages[target] if target in pages else parse(target)).ids:
                broken.append(f"{path.relative_to(BOOK)}: {link} (no #{anchor} there)")
    assert not broken, f"{len(broken)} broken links, e.g.\n" + "\n".join(broken[:20])


def test_the_check_sees_the_chapters_and_the_api_reference(pages):
    names = {p.relative_to(BOOK).as_posix() for p in pages}
    assert "notebooks/12_evaluating_generative_models.html" in names and "book/api/metrics.html" in names
    # the chapters link into the API reference, anchor by anchor: the check has something to check
    chapter = pages[(BOOK / "notebooks" / "02_dcgan.html").resolve()]
    api = [t for t in internal_targets(BOOK / "notebooks" / "02_dcgan.html", chapter.links) if "api/" in t[0] and t[2]]
    assert len(api) >= 10


def test_a_broken_link_would_be_found(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">b</a><a href="b.html#nowhere">x</a><a href="c.html">c</a>')
    (tmp_path / "b.html").write_text('<h1 id="there">b</h1>')
    page = parse(tmp_path / "a.html")
    targets = internal_targets(tmp_path / "a.html", page.links)
    missing = [link for link, target, anchor in targets if not target.exists() or (anchor and anchor not in parse(target).ids)]
    assert missing == ["b.html#nowhere", "c.html"]
