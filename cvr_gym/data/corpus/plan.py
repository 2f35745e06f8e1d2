"""What a renderable video is made of, and the script that describes it in perception's words.

A :class:`VideoPlan` is a sequence of :class:`Scene` objects tiling the video (a background
colour, one to three lines of large text, coloured shapes) plus :class:`Sound` events (spoken
sentences, beeps, noise bursts). :meth:`VideoPlan.script` turns the plan into script items in
exactly the vocabulary of the offline backends (:mod:`cvr_gym.perception.offline_visual`,
:mod:`cvr_gym.perception.offline_audio`), so that ``CVRSim-v0`` on the script and ``CVRReal-v0``
on the rendered file report the same things:

- ``visual`` ``"<colour> background"`` for every scene;
- ``text``: each drawn line, exactly as drawn;
- ``object``: one item per shape colour, ``"3 red objects"`` / ``"1 red object"`` with
  ``attributes={"colour": ..., "count": ...}``;
- ``speech``: the sentence; ``sound``: ``"high beep"`` (> 1000 Hz), ``"low beep"`` (< 500 Hz),
  ``"beep"`` or ``"noise burst"``, beeps with ``attributes={"pitch_hz": ...}``.

``"scene change"`` records of the real backend depend on which frames a call samples, so scripts
leave them out.

Visual times: frame ``k`` shows the scene at ``k / fps`` and a decoder returns the frame nearest
to a requested time, so a scene drawn on frames ``[start, end)`` is what a request sees for
times in ``[start - h, end - h)`` with ``h`` half a frame. Script spans of visual items use
those shifted times (the first scene starts at 0, the last ends at the video's end).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from cvr_gym.core.evidence import ScriptItem

FRAME_SIZE = (320, 240)
FPS = 10
#: Frame grid of the layout: scene boundaries fall on whole frames.
GRID = 0.5


@dataclass(frozen=True)
class Shape:
    """A filled shape of one canonical colour, its bounding box's top-left corner and side (px)."""

    colour: str
    kind: Literal["circle", "triangle"]
    x: int
    y: int
    size: int


@dataclass(frozen=True)
class Scene:
    """A still picture shown from ``start`` to ``end`` seconds."""

    start: float
    end: float
    background: str
    lines: tuple[str, ...] = ()
    shapes: tuple[Shape, ...] = ()


@dataclass(frozen=True)
class Sound:
    """An audio event: ``speech`` (``text`` spoken by espeak-ng, fitted into the slot), a sine
    ``tone`` of ``hz`` or a ``noise`` burst, from ``start`` to ``end`` seconds."""

    start: float
    end: float
    kind: Literal["speech", "tone", "noise"]
    text: str = ""
    hz: float = 0.0


def tone_label(hz: float) -> str:
    """The offline audio backend's name for a steady tone of ``hz``."""
    return "high beep" if hz > 1000 else "low beep" if hz < 500 else "beep"


def objects_phrase(colour: str, count: int) -> str:
    return f"{count} {colour} {'object' if count == 1 else 'objects'}"


@dataclass(frozen=True)
class VideoPlan:
    """Everything needed to render one video file and to write its script.

    ``path`` is relative to the suite folder. ``scenes`` tile ``[0, duration)`` in order.
    """

    path: str
    duration: float
    scenes: tuple[Scene, ...]
    sounds: tuple[Sound, ...] = ()
    has_audio: bool = True
    fps: int = FPS
    size: tuple[int, int] = FRAME_SIZE
    tags: dict[str, int] = field(default_factory=dict, compare=False)

    def visible(self, scene: Scene) -> tuple[float, float]:
        """The times a frame request sees ``scene`` (see the module docstring)."""
        h = 0.5 / self.fps
        start = 0.0 if scene.start <= 0 else round(scene.start - h, 3)
        end = self.duration if scene.end >= self.duration else round(scene.end - h, 3)
        return start, end

    def scene(self, tag: str) -> Scene:
        """The scene a family builder tagged ``tag``."""
        return self.scenes[self.tags[tag]]

    def script(self) -> tuple[ScriptItem, ...]:
        items: list[ScriptItem] = []
        for scene in self.scenes:
            s, e = self.visible(scene)
            items.append(ScriptItem(start=s, end=e, kind="visual", content=f"{scene.background} background"))
            items.extend(ScriptItem(start=s, end=e, kind="text", content=line) for line in scene.lines)
            counts = Counter(shape.colour for shape in scene.shapes)
            for colour in sorted(counts):
                items.append(ScriptItem(start=s, end=e, kind="object", content=objects_phrase(colour, counts[colour]),
                                        attributes={"colour": colour, "count": counts[colour]}))
        if self.has_audio:
            for sound in self.sounds:
                if sound.kind == "speech":
                    items.append(ScriptItem(start=sound.start, end=sound.end, kind="speech", content=sound.text))
                elif sound.kind == "tone":
                    items.append(ScriptItem(start=sound.start, end=sound.end, kind="sound",
                                            content=tone_label(sound.hz), attributes={"pitch_hz": round(sound.hz)}))
                else:
                    items.append(ScriptItem(start=sound.start, end=sound.end, kind="sound", content="noise burst"))
        items.sort(key=lambda i: (i.start, i.end, i.kind, i.content))
        return tuple(items)
