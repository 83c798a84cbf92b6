"""Sphinx extension of the book: docstrings may name a genlearn object the way a reader imports it.

``:func:`load_digits``` or ``:func:`genlearn.losses.r1_penalty``` in a docstring do not match the API reference's
entries, which live under the defining module (``genlearn.data.digits.load_digits``, ``genlearn.losses.penalties
.r1_penalty``). When Python's domain finds no target, this resolves the name to the one documented object with the
same last component under the same package prefix (a module-level one before a method), so the links work. A name
that a module re-exports (``genlearn.runtime.pick``, defined in ``genlearn.profile``) resolves to the entry of the
object it imports. Names that still match nothing, or more than one object, stay warnings (the strict build fails on
them).
"""

from __future__ import annotations

import importlib

from sphinx.util.nodes import make_refnode


def home_of(target: str) -> str | None:
    """``genlearn.runtime.pick`` -> ``genlearn.profile.pick``: where an object that a module re-exports is defined
    (and documented). None when ``target`` is not a module's attribute with a home of its own."""
    module, _, name = target.rpartition(".")
    if not module.startswith("genlearn"):
        return None
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None
    home, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{home}.{qualname}" if home and qualname else None


def resolve_by_suffix(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    prefix, _, name = target.rpartition(".")
    domain = env.get_domain("py")
    matches = [full for full in domain.objects if full.rpartition(".")[2] == name and (not prefix or full.startswith(prefix + "."))]
    if len(matches) > 1:  # a function and a method of the same name: the module-level object
        matches = [m for m in matches if domain.objects[m].objtype in ("function", "class", "exception")]
    if not matches and home_of(target) in domain.objects:  # a re-export, e.g. genlearn.runtime.pick
        matches = [home_of(target)]
    if len(matches) != 1:
        return None
    entry = domain.objects[matches[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0])


def setup(app):
    app.connect("missing-reference", resolve_by_suffix)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
