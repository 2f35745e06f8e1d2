"""Reading JSON the way LLM masters write it: with ``//`` and ``#`` comments, several objects
in one reply. Eight of AgentCVR's 47 master-prompt example blocks carry such comments
(``agent_system/prompts/master_{CC,FSA,MOC,PEA,PI}.prompt``), so models trained on them do too.
Only ``json`` is used; nothing is evaluated."""

from __future__ import annotations

import json
import re
from typing import Any

#: Integers in agent JSON may have at most this many digits. Python refuses to convert more
#: than 4,300 (``sys.get_int_max_str_digits``) and raises a bare ValueError; no tool argument
#: needs more than a few.
MAX_INT_DIGITS = 64
# A prose scan gives up after this many '{' that start no JSON object: each failed attempt costs
# time linear in the text (json builds its error message from the line count), so a flood of
# braces would otherwise cost time quadratic in the text.
MAX_FAILED_STARTS = 256


class NumberTooLong(ValueError):
    """An integer in agent JSON has more than :data:`MAX_INT_DIGITS` digits."""


def parse_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise NumberTooLong(f"a number in the action has {digits} digits; at most {MAX_INT_DIGITS} are allowed")
    return int(text)


def loads(text: str) -> Any:
    """``json.loads`` that refuses over-long integers with :class:`NumberTooLong`."""
    return json.loads(text, parse_int=parse_int)


_DECODER = json.JSONDecoder(parse_int=parse_int)


# A JSON string (possibly unterminated), or a // or # comment up to the end of its line.
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|(?://|#)[^\n]*', re.DOTALL)
# Where a JSON object can start: "{" then optional space then '"' or '}'.
_OBJECT_START = re.compile(r'\{\s*["}]')


def strip_comments(text: str) -> tuple[str, bool]:
    """``text`` without ``// ...`` and ``# ...`` line comments outside strings, and whether any
    were removed. Strings (``"ID#1"``, ``"http://x"``) are kept intact. Linear in the text."""
    if "#" not in text and "//" not in text:  # nothing to strip: skip the scan
        return text, False
    removed = False

    def keep_strings(m: re.Match) -> str:
        nonlocal removed
        if m.group(0).startswith('"'):
            return m.group(0)
        removed = True
        return ""

    out = _STRING_OR_COMMENT.sub(keep_strings, text)
    return out, removed


def top_level_objects(text: str, limit: int = 64) -> list[Any]:
    """Every JSON object that starts at top level in ``text`` (prose between them is skipped;
    objects nested inside another are not counted twice)."""
    found: list[Any] = []
    failures = 0
    m = _OBJECT_START.search(text)
    while m is not None and len(found) < limit and failures < MAX_FAILED_STARTS:
        pos = m.start()
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            failures += 1
            m = _OBJECT_START.search(text, pos + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        m = _OBJECT_START.search(text, end)
    return found
