"""The short tool-call syntax a person types in ``cvr-gym play``.

::

    observe 1 0 60 8 focus words       video 1, 0-60 s, 8 frames, focus "words" ("focus" optional)
    observe 1 0 60 8 + 2 0 30 4        two targets side by side (frames default to 8)
    listen 2 0 30 [focus words]        video 2, 0-30 s
    answer B | answer A C | answer 12.5 20 | answer 3 | answer free text
    {"name": "listen", "arguments": {...}}   JSON (or <tool_call> text) goes to the env as is

``o``, ``l`` and ``a`` abbreviate the tool names. Nothing typed is ever evaluated as code.
"""

from __future__ import annotations

import json
from typing import Any

from cvr_gym.core.actions import ToolCall

HELP = __doc__.split("::", 1)[1].split("``o``", 1)[0].strip("\n").rstrip()
_ALIASES = {"o": "observe", "obs": "observe", "l": "listen", "a": "answer", "ans": "answer"}


class TypedCallError(ValueError):
    """The line could not be read as a tool call; the message says why."""


def _numbers(tokens: list[str], what: str) -> list[float]:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        raise TypedCallError(f"{what}: expected numbers, got {' '.join(tokens)!r}") from None


def _split_focus(tokens: list[str]) -> tuple[list[str], str]:
    lowered = [t.lower() for t in tokens]
    if "focus" in lowered:
        i = lowered.index("focus")
        return tokens[:i], " ".join(tokens[i + 1:])
    # No "focus" keyword: the words after the numbers are the focus ("observe 1 0 60 8 red car").
    for i, token in enumerate(tokens):
        if token not in "+;" and not _is_number(token):
            return tokens[:i], " ".join(tokens[i:])
    return tokens, ""


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_typed_call(line: str) -> Any:
    """A :class:`ToolCall` from the short syntax, or the raw text for JSON / ``<tool_call>`` input.

    Raises :class:`TypedCallError` for lines that are neither.
    """
    text = line.strip()
    if not text:
        raise TypedCallError("empty line")
    if text[0] in "{[<":
        return text  # the env parses JSON and tagged tool calls itself
    head, _, rest = text.partition(" ")
    name = _ALIASES.get(head.lower(), head.lower())
    tokens = rest.split()
    try:
        if name == "observe":
            tokens, focus = _split_focus(tokens)
            groups = " ".join(tokens).replace(";", "+").split("+")
            targets = []
            for group in groups:
                values = _numbers(group.split(), "observe")
                if len(values) not in (3, 4):
                    raise TypedCallError("observe takes VIDEO START END [FRAMES] per target, e.g. observe 1 0 60 8")
                frames = int(values[3]) if len(values) == 4 else 8
                targets.append((int(values[0]), values[1], values[2], frames))
            return ToolCall.observe_many(targets, focus=focus)
        if name == "listen":
            tokens, focus = _split_focus(tokens)
            values = _numbers(tokens, "listen")
            if len(values) != 3:
                raise TypedCallError("listen takes VIDEO START END, e.g. listen 2 0 30")
            return ToolCall.listen(int(values[0]), values[1], values[2], focus=focus)
        if name == "answer":
            if not rest.strip():
                raise TypedCallError("answer what? e.g. answer B")
            return ToolCall.answer(_answer_value(rest.strip()))
    except TypedCallError:
        raise
    except ValueError as err:  # pydantic validation: end before start, frames out of range, ...
        raise TypedCallError(f"{name}: {_first_error(err)}") from None
    raise TypedCallError(f"unknown command {head!r}; use observe, listen, answer (or JSON); 'help' shows the syntax")


def _answer_value(text: str) -> Any:
    if text[0] in "[\"" or text.lstrip("-").replace(".", "", 1).isdigit():
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, (list, str, int, float)) and not isinstance(value, bool):
            return value
    return text  # the env coerces "A C", "12.5 20", "three", free text


def _first_error(err: ValueError) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            loc = ".".join(str(x) for x in first.get("loc", ()))
            return f"{loc + ': ' if loc else ''}{first.get('msg')}"
        except Exception:
            pass
    return str(err).splitlines()[0]
