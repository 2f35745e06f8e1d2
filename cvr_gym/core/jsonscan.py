"""Reading JSON the way LLM masters write it: with ``//`` and ``#`` comments, several objects
in one reply. Eight of AgentCVR's 46 master-prompt examples carry such comments
(``agent_system/prompts/master_{CC,FSA,MOC,PEA,PI}.prompt``), so models trained on them do too.
Only ``json`` is used; nothing is evaluated."""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()


def strip_comments(text: str) -> tuple[str, bool]:
    """``text`` without ``// ...`` and ``# ...`` line comments outside strings, and whether any
    were removed. Strings (``"ID#1"``, ``"http://x"``) are kept intact."""
    out: list[str] = []
    i, n, removed = 0, len(text), False
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
            continue
        if c == "#" or (c == "/" and i + 1 < n and text[i + 1] == "/"):
            end = text.find("\n", i)
            i = n if end == -1 else end
            removed = True
            continue
        out.append(c)
        i += 1
    return "".join(out), removed


def top_level_objects(text: str, limit: int = 64) -> list[Any]:
    """Every JSON object that starts at top level in ``text`` (prose between them is skipped;
    objects nested inside another are not counted twice)."""
    found: list[Any] = []
    pos = text.find("{")
    while pos != -1 and len(found) < limit:
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        pos = text.find("{", end)
    return found
