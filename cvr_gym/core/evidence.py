"""Evidence: the one record both worlds speak.

A script is a timeline of :class:`ScriptItem` per video (what is seen and heard, with start and
end times). When an agent calls a tool, a perceiver answers with :class:`Evidence` records: in
the simulator they are script items looked up at the sampled frame times; in the real env they
are produced by OCR, visual descriptors and speech recognition. The observation formatter turns
Evidence into text identically for both, which is what makes sim and real comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EvidenceKind = Literal["visual", "text", "object", "speech", "sound"]
VISUAL_KINDS: frozenset[str] = frozenset({"visual", "text", "object"})
AUDIO_KINDS: frozenset[str] = frozenset({"speech", "sound"})
EVIDENCE_KINDS: tuple[str, ...] = ("visual", "text", "object", "speech", "sound")


class ScriptItem(BaseModel):
    """One entry of a video's script: something seen or heard from ``start`` to ``end`` seconds.

    ``kind`` is ``visual`` (a scene or action description), ``text`` (on-screen text), ``object``
    (an object, optionally with ``attributes`` such as colour or count), ``speech`` (words
    spoken) or ``sound`` (a non-speech sound).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    kind: EvidenceKind
    content: str = Field(min_length=1)
    attributes: dict[str, Any] = Field(default_factory=dict)
    # end >= start is checked by the containing VideoSpec in one pass: a validator per item
    # would be called hundreds of thousands of times when loading a large suite.


@dataclass(slots=True)
class Evidence:
    """What a perceiver returned for one tool call: a script-like record tied to where it was seen.

    ``video`` is the 1-based index shown to the agent; ``start``/``end`` is the time the record
    covers (for a frame, ``start == end`` is the frame time); ``confidence`` is 1.0 for script
    lookups and the model's confidence for real perception.
    """

    video: int
    start: float
    end: float
    kind: str
    content: str
    attributes: dict[str, Any] = field(default_factory=dict)
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "content": self.content,
            "attributes": dict(self.attributes),
            "confidence": self.confidence,
        }

    @classmethod
    def coerce(cls, value: Any) -> "Evidence | None":
        """An Evidence from an Evidence or a dict with the same fields (as results files hold);
        ``None`` for anything that is not one."""
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            try:
                return cls(int(value["video"]), float(value["start"]), float(value["end"]), str(value["kind"]),
                           str(value["content"]), dict(value.get("attributes") or {}),
                           float(value.get("confidence", 1.0)))
            except (KeyError, TypeError, ValueError):
                return None
        return None

    def to_script_item(self) -> ScriptItem:
        return ScriptItem(
            start=self.start, end=self.end, kind=self.kind, content=self.content,
            attributes=dict(self.attributes),
        )
