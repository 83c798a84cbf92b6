"""The API reference and the chapters cannot drift apart: every public function and class names, in its docstring,
the chapter that teaches it, and that chapter's notebook mentions it (its "genlearn in this chapter" cell links it)."""

import importlib
import inspect
import json
import pkgutil
import re
from functools import lru_cache
from pathlib import Path

import pytest

import genlearn

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = re.compile(r"\b[Cc]hapters? (\d+(?:(?:, | and | or |-|–)\d+)*)")


@lru_cache(maxsize=None)
def public_modules() -> list[str]:
    """Every genlearn module a reader may import: not private, and not the command line and its recipes."""
    names = ["genlearn"]  # genlearn.load
    for m in pkgutil.walk_packages(genlearn.__path__, "genlearn."):
        parts = m.name.split(".")[1:]
        if not (any(p.startswith("_") for p in parts) or parts[0] in ("cli", "recipes")):
            names.append(m.name)
    return sorted(names)


def public_objects() -> list[tuple[str, str, object]]:
    """(module, name, object) for each public function and class, in the module that defines it."""
    out = []
    for name in public_modules():
        mod = importlib.import_module(name)
        exported = getattr(mod, "__all__", [n for n in vars(mod) if not n.startswith("_")])
        for attr in exported:
            obj = getattr(mod, attr)
            # an alias (GANConfig = GANTrainConfig) is checked under its class's own name (see exported_names)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name and obj.__name__ == attr:
                out.append((name, attr, obj))
    return out


def exported_names(obj: object) -> list[str]:
    """The names under which ``obj``'s own module exports it: its own, and an alias kept for the chapters, which the
    API reference documents as "alias of" (``GANConfig = GANTrainConfig``: chapters 1-6 and 11 import ``GANConfig``)."""
    mod = importlib.import_module(obj.__module__)
    exported = getattr(mod, "__all__", [n for n in vars(mod) if not n.startswith("_")])  # as public_objects reads it
    return [n for n in exported if getattr(mod, n, None) is obj]


@lru_cache(maxsize=None)
def chapter_text(number: int) -> str:
    [path] = (ROOT / "notebooks").glob(f"{number:02d}_*.ipynb")
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])


def named_chapters(doc: str) -> list[int]:
    found = []
    for group in CHAPTER.findall(doc):
        found += [int(n) for n in re.split(r", | and | or ", group) if "-" not in n and "–" not in n]
        for a, b in re.findall(r"(\d+)[-–](\d+)", group):
            found += list(range(int(a), int(b) + 1))
    return found


IMPORT = re.compile(r"^\s*from (genlearn[\w.]*) import (\([^)]*\)|[^\n]+)", re.M)
LINK = re.compile(r"\{py:(?:func|class)\}`(?:[^`<]*<)?(genlearn[\w.]+)>?`")


def chapter_imports(nb: dict) -> list[tuple[object, str]]:
    """The genlearn functions and classes a notebook imports, with the name it imports each by (and genlearn.load
    where it calls it)."""
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    found = []
    for module, names in IMPORT.findall(code):
        mod = importlib.import_module(module)
        for name in re.split(r"[,\s()]+", names.split("#")[0]):
            obj = getattr(mod, name, None) if name else None
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ in public_modules():
                found.append((obj, name))
    if "genlearn.load(" in code:
        found.append((genlearn.load, "load"))
    return found


def link_target(obj: object, name: str | None = None) -> tuple[str, str]:
    """(role, dotted name) of an object's entry in the API reference; imported by ``name``, an alias that its module
    exports (``GANConfig``) has an entry of its own."""
    own = name if name is not None and name != obj.__name__ and name in exported_names(obj) else obj.__qualname__
    return ("py:class" if inspect.isclass(obj) else "py:func"), f"{obj.__module__}.{own}"


def linked_object(dotted: str) -> object:
    """The object a link names, looked up the way a reader imports it: ``genlearn.runtime.pick`` is
    ``genlearn.profile.pick``, which ``genlearn.runtime`` re-exports (book/_ext/genlearn_xref.py links it the same
    way). None when the name does not resolve."""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def test_a_link_names_an_object_by_its_home_or_by_a_re_export():
    from genlearn.profile import pick

    assert linked_object("genlearn.profile.pick") is pick and linked_object("genlearn.runtime.pick") is pick
    assert linked_object("genlearn.runtime.no_such_name") is None and linked_object("genlearn.no_such_module.x") is None


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_every_chapter_links_the_genlearn_functions_it_uses(path):
    nb = json.loads(path.read_text())
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    links = LINK.findall(markdown)
    linked_names, linked = set(links), [linked_object(name) for name in links]
    used = chapter_imports(nb)
    assert used, "the chapter imports nothing from genlearn"
    unlinked = {link_target(o, name)[1] for o, name in used
                if link_target(o, name)[1] not in linked_names and not any(o is target for target in linked)}
    assert not unlinked, f"not linked to the API reference: {sorted(unlinked)}"


def test_the_public_api_is_large_enough_to_need_a_reference():
    assert len(public_objects()) > 200


@pytest.mark.parametrize("module, name, obj", public_objects(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_docstring_names_a_chapter_that_uses_it(module, name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{module}.{name} has no docstring"
    chapters = named_chapters(doc)
    assert chapters, f"{module}.{name}: its docstring names no chapter (write e.g. 'Chapter 5.' at its end)"
    assert all(list((ROOT / "notebooks").glob(f"{c:02d}_*.ipynb")) for c in chapters), f"{module}.{name}: no such chapter in {chapters}"
    names = exported_names(obj)  # its own name, or the 0.2 alias the chapters still use
    assert any(re.search(rf"\b{re.escape(n)}\b", chapter_text(c)) for c in chapters for n in names), (
        f"{module}.{name}: chapter(s) {chapters} never mention {' or '.join(names)}"
    )


def test_the_api_reference_documents_every_public_module():
    pages = "\n".join(p.read_text() for p in (ROOT / "book" / "api").glob("*.md"))
    documented = set(re.findall(r"^\.\. automodule:: (\S+)\n   :members:", pages, re.M))  # each module's own objects
    documented |= set(re.findall(r"^\.\. automodule:: (genlearn\.\w+)$", pages, re.M))  # the packages re-export them
    assert set(public_modules()) - {"genlearn"} <= documented, sorted(set(public_modules()) - documented)
    assert ".. autofunction:: genlearn.load" in pages
    toc = (ROOT / "_toc.yml").read_text()
    assert all(f"book/api/{p.stem}" in toc for p in (ROOT / "book" / "api").glob("*.md"))


def test_an_alias_is_checked_and_linked_under_the_name_its_module_exports():
    """0.2's config names stay as aliases that their modules export (the chapters import and link them); a name the
    module does not export, or a re-export from another module, is not an alias of the class."""
    from genlearn.train.adversarial import AdversarialTrainConfig
    from genlearn.train.gan import GANTrainConfig

    assert exported_names(GANTrainConfig) == ["GANTrainConfig", "GANConfig"]
    assert exported_names(AdversarialTrainConfig) == ["AdversarialTrainConfig", "AdversarialConfig"]
    assert link_target(GANTrainConfig, "GANConfig") == ("py:class", "genlearn.train.gan.GANConfig")
    assert link_target(GANTrainConfig, "GANTrainConfig") == link_target(GANTrainConfig) == ("py:class", "genlearn.train.gan.GANTrainConfig")
    assert link_target(GANTrainConfig, "TrainConfig")[1] == "genlearn.train.gan.GANTrainConfig"  # deprecated, not exported
