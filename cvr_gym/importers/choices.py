"""Options and gold answers as sources write them, turned into our option list and letters.

Sources label options inside the text (``"A. Video 1"``, ``"B: ..."``, ``"(C) ..."``); we keep the
text and drop the label because our prompt adds the letters itself. Gold answers come as a
letter, a letter with text, an index, a list of letters or a string of letters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cvr_gym.core.tasks import OPTION_LETTERS
from cvr_gym.importers.common import RecordError

_LABEL = re.compile(r"^\s*(?:option\s+)?(?:\(([A-Za-z])\)|([A-Za-z])\s*[.:)\]])\s*", re.IGNORECASE)
_LETTER = re.compile(r"^\s*(?:option\s+)?\(?([A-Za-z])\)?(?:\s*[.:)\]]|\s|$)", re.IGNORECASE)
_VIDEO_OPTION = re.compile(r"^\s*video\s*(\d+)\s*\.?\s*$", re.IGNORECASE)


def clean_options(options: Any, what: str = "options") -> list[str]:
    """Option texts without their ``A.``/``(A)``/``A:`` labels, in letter order.

    A dict ``{"A": ..., "B": ...}`` is read in letter order. A label is removed only when it is
    the letter of the option's position, so an option that starts with the word "A" survives.
    """
    if isinstance(options, Mapping):
        keys = sorted(options, key=lambda k: str(k).strip().upper())
        options = [options[k] for k in keys]
    if not isinstance(options, (list, tuple)) or not options:
        raise RecordError(f"{what}: expected a non-empty list of options, got {options!r}", "bad-options")
    if len(options) > len(OPTION_LETTERS):
        raise RecordError(f"{what}: {len(options)} options, at most {len(OPTION_LETTERS)}", "bad-options")
    cleaned = []
    for i, opt in enumerate(options):
        if isinstance(opt, (int, float)) and not isinstance(opt, bool):
            opt = f"{opt:g}"
        if not isinstance(opt, str) or not opt.strip():
            raise RecordError(f"{what}[{i}]: expected option text, got {opt!r}", "bad-options")
        text = opt.strip()
        m = _LABEL.match(text)
        if m and (m.group(1) or m.group(2)).upper() == OPTION_LETTERS[i] and text[m.end():].strip():
            text = text[m.end():].strip()
        cleaned.append(text)
    return cleaned


def gold_letter(value: Any, n_options: int, what: str = "answer") -> str:
    """One option letter from ``"B"``, ``"B. Video 2"``, ``"(B)"`` or a 0-based index."""
    letters = OPTION_LETTERS[:n_options]
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n_options:
        return letters[value]
    if isinstance(value, str):
        m = _LETTER.match(value)
        if m and m.group(1).upper() in letters:
            return m.group(1).upper()
        if value.strip().isdigit() and 0 <= int(value) < n_options:
            return letters[int(value)]
    raise RecordError(f"{what}: {value!r} is not one of the option letters {list(letters)}", "bad-answer")


def gold_letters(value: Any, n_options: int, what: str = "answer") -> list[str]:
    """Several option letters from ``["A", "C"]``, ``"AC"``, ``"A, C"`` or indices."""
    letters = OPTION_LETTERS[:n_options]
    if isinstance(value, str):
        text = value.strip().upper()
        if re.fullmatch(r"[A-Z]+", text):
            items: list[Any] = list(text)
        else:
            items = re.findall(r"[A-Z]", re.sub(r"\b(AND|OPTIONS?)\b", " ", text))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise RecordError(f"{what}: no option letters in {value!r}", "bad-answer")
    out = [gold_letter(x, n_options, what) for x in items]
    if len(set(out)) != len(out):
        raise RecordError(f"{what}: {value!r} repeats a letter", "bad-answer")
    bad = [x for x in out if x not in letters]
    if bad:
        raise RecordError(f"{what}: {bad} are not option letters", "bad-answer")
    return out


def video_of_option(option: str) -> int | None:
    """``"Video 3"`` -> 3: options that name a whole video (AgentCVR's "which video" questions)."""
    m = _VIDEO_OPTION.match(option)
    return int(m.group(1)) if m else None


def parse_order(value: Any, n: int, what: str = "answer") -> list[int]:
    """``"3->1->2"`` (or ``[3, 1, 2]``, ``"3,1,2"``) as a permutation of 1..n."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        items = re.findall(r"\d+", value)
    else:
        raise RecordError(f"{what}: expected an order like '2->1->3', got {value!r}", "bad-answer")
    try:
        order = [int(x) for x in items]
    except (TypeError, ValueError):
        raise RecordError(f"{what}: expected segment numbers, got {value!r}", "bad-answer") from None
    if sorted(order) != list(range(1, n + 1)):
        raise RecordError(f"{what}: {value!r} is not an order of the segments 1..{n}", "bad-answer")
    return order
