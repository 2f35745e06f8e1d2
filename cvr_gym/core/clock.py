"""Times as agents write them: seconds (``75``, ``"75.5"``, ``"75s"``) or clock strings
(``"1:15"``, ``"01:01:15"``, i.e. ``[[HH:]MM:]SS``), as EVA's frame-select tool accepts them
(``_parse_time_to_seconds`` in EfficientVideoAgent's ``select_frame_fallback.py``)."""

from __future__ import annotations

import math
import re
from typing import Any

_CLOCK = re.compile(r"\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)?\s*", re.IGNORECASE)


def parse_seconds(value: Any) -> float:
    """Seconds from a number or a ``[[HH:]MM:]SS`` / ``"12.5s"`` string; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected a time, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        m = _CLOCK.fullmatch(value)
        if not m:
            raise ValueError(f"expected seconds or [[HH:]MM:]SS, got {value[:40]!r}")
        parts = [p for p in m.groups() if p is not None]
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
    else:
        raise ValueError(f"expected a time, got {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expected a non-negative finite time, got {value!r}")
    return seconds


def looks_like_clock(value: Any) -> bool:
    """A string an agent meant as a time (``"1:15"``, ``"75s"``, ``"75"``)."""
    return isinstance(value, str) and _CLOCK.fullmatch(value) is not None


def format_clock(seconds: float) -> str:
    """``75.0`` -> ``"01:15"``; hours appear when needed (EVA shows frame times as MM:SS)."""
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
