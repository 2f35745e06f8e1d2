"""AgentCVR timeline ``caption`` fields as audio evidence.

What a ``caption`` is, read from the generators' prompts: the movie generator asks for
"Subtitles (Dialogue, Voiceover) or specific Sound Effects (e.g. [Siren wails])", the plot
generator for "Dialogue ONLY. Empty if silent", and AgentCVR's simulator serves captions through
its ``get_caption`` tool as "captions/subtitles". So a caption is the *audio track written down*:
what is said or heard, not a description of the picture (that is ``visual``). The cooking,
grounding and sort generators use the same field name without saying more; we read them the
same way (a cooking video's narration is speech).

Mapping (mode ``"auto"``, the default): bracketed parts (``[Thunder rumbles]``) become ``sound``
items, the remaining words become one ``speech`` item; empty or silent captions (``""``,
``"..."``, ``"[silence]"``) give nothing. Other modes put the whole caption in one kind:
``"speech"``, ``"sound"``, ``"text"`` (on-screen subtitles) or ``"skip"`` (drop captions).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from cvr_gym.core.evidence import ScriptItem

CaptionMode = Literal["auto", "speech", "sound", "text", "skip"]
CAPTION_MODES: tuple[str, ...] = ("auto", "speech", "sound", "text", "skip")

_BRACKETED = re.compile(r"\[([^\[\]]*)\]")
_SILENT = frozenset({
    "", "...", "…", "-", "--", "—", "n/a", "na", "none", "null", "silence", "silent", "no dialogue",
    "no audio", "no sound", "no speech", "none.", "(silence)", "(no dialogue)",
})
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}


def _silent(text: str) -> bool:
    t = text.strip().lower().strip("[]() ")
    return t in _SILENT or not re.search(r"\w", t)


def _unquote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def caption_items(start: float, end: float, caption: Any, mode: CaptionMode = "auto") -> list[ScriptItem]:
    """Script items (``speech``/``sound``/``text``) for one caption over ``[start, end]``."""
    if caption is None or mode == "skip":
        return []
    if isinstance(caption, (list, tuple)):
        caption = " ".join(str(c) for c in caption if c is not None)
    text = str(caption).strip()
    if _silent(text):
        return []
    if mode != "auto":
        return [ScriptItem(start=start, end=end, kind=mode, content=_unquote(text))]
    items = [ScriptItem(start=start, end=end, kind="sound", content=" ".join(s.split()))
             for s in _BRACKETED.findall(text) if not _silent(s)]
    words = _unquote(_BRACKETED.sub(" ", text))
    if not _silent(words):
        items.append(ScriptItem(start=start, end=end, kind="speech", content=words))
    return items
