"""Small helpers shared by the command-line recipes (``genlearn/train/<model>.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from genlearn.train.loop import History


def write_history(run: Path, history: History) -> Path:
    """``RUN/history.json``: per-step logs and sparse events that are plain numbers."""
    events = {k: [(s, v) for s, v in pts if isinstance(v, (int, float))] for k, pts in history.events.items()}
    path = Path(run) / "history.json"
    path.write_text(json.dumps({"steps": history.steps, "logs": history.logs, "events": events}))
    return path
