"""Execute notebooks top to bottom in place and stamp the measured wall time into their first output.

    GENLEARN_PROFILE=cpu python notebooks/execute.py notebooks/00_setup_and_tour.ipynb

(``make notebooks`` runs every chapter.) The first code cell of each chapter prints
``genlearn.runtime.stamp()``; this script appends the wall time of the whole run to that output,
so the committed notebook says how long it took, where and with what.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

STAMP_PREFIX = "genlearn stamp:"


def final_text(text: str) -> str:
    """What a terminal shows after carriage returns: each line keeps the text after its last '\\r'."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def collapse_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name and apply carriage returns, so a text
    progress bar is stored as its final state instead of hundreds of refreshes."""
    merged: list = []
    for out in outputs:
        if out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream" and merged[-1]["name"] == out["name"]:
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = final_text(out["text"])
    return [o for o in merged if o.get("output_type") != "stream" or o["text"].strip()]


def compact_png(data: str, min_bytes: int = 100_000) -> str:
    """A base64 PNG figure of at least ``min_bytes``, re-encoded as a 256-colour palette PNG (3x smaller for
    photo-like figures, which chapters 9-10 are full of); smaller ones unchanged, so digit grids stay exact."""
    import base64
    import io

    from PIL import Image

    raw = base64.b64decode(data)
    if len(raw) < min_bytes:
        return data
    out = io.BytesIO()
    Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode() if out.tell() < len(raw) else data


def execute(path: Path, timeout: int = 7200) -> float:  # per cell: an ablation loop under load can pass an hour
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    wall = time.perf_counter() - start
    from genlearn.runtime import format_seconds

    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = collapse_streams(cell.get("outputs", []))
            for out in cell["outputs"]:
                if "image/png" in out.get("data", {}):
                    out["data"]["image/png"] = compact_png(out["data"]["image/png"])
    stamped = False
    for cell in nb.cells:  # the first printed stamp (a stream output of `print(stamp())`)
        for out in cell.get("outputs", []):
            if not stamped and out.get("output_type") == "stream" and STAMP_PREFIX in out.get("text", ""):
                lines = out["text"].split("\n")
                i = next(k for k, line in enumerate(lines) if STAMP_PREFIX in line)
                lines[i] += f" | wall time of this run: {format_seconds(wall)}"
                out["text"] = "\n".join(lines)
                stamped = True
    if not stamped:
        print(f"  warning: {path} prints no genlearn stamp; add print(stamp()) to its first cell")
    nbformat.write(nb, path)
    return wall


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    for p in paths:
        print(f"executing {p} (profile {os.environ.get('GENLEARN_PROFILE', 'auto')}) ...", flush=True)
        print(f"  done in {execute(Path(p)):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
