"""Laying out a renderable video: short key cards hidden between long filler scenes.

A family builder describes scenes as :class:`Card` objects (what is drawn and heard, how long it
lasts); :func:`lay_out` decides when: the cards go in order (or shuffled), separated by filler
scenes of 3-30 s, so that the key evidence is a few seconds inside a 20 s - 3 min video and
has to be searched for. Every time is on a half-second grid (whole frames at 10 fps).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cvr_gym.data.corpus.plan import FRAME_SIZE, GRID, Scene, Shape, Sound, VideoPlan
from cvr_gym.perception.offline_visual import CANONICAL_RGB

#: Backgrounds a card with text may use; shapes are never drawn in their background's colour.
#: (OCR drops spaces between words on mid grey, so grey only backs scenes without text.)
BACKGROUNDS = ("white", "black", "blue", "green", "purple", "yellow", "orange", "pink", "red")
#: Backgrounds that leave every object colour free (for scenes whose shapes are counted).
NEUTRAL = ("white", "black")
SHAPE_COLOURS = tuple(CANONICAL_RGB)

# Shape slots: a 6 x 2 grid under at most three text lines (line height 38 px from y = 10).
_COLS, _ROWS = 6, 2
_TOP = 134
MIN_GAP, MAX_FILLER = 3.0, 30.0


@dataclass
class Card:
    """A scene before it is placed: background, text lines, shapes and sounds.

    ``sounds`` hold times relative to the card's start. ``tag`` names the placed scene
    (:meth:`VideoPlan.scene`) so tasks can quote its time or cite it as evidence.
    """

    length: float
    background: str
    lines: tuple[str, ...] = ()
    shapes: tuple[Shape, ...] = ()
    sounds: tuple[Sound, ...] = ()
    tag: str | None = None


@dataclass
class Layout:
    """Scenes, sounds and tags of one video under construction."""

    scenes: list[Scene] = field(default_factory=list)
    sounds: list[Sound] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)


def snap(t: float) -> float:
    return round(round(t / GRID) * GRID, 3)


def shapes(rng: random.Random, counts: Mapping[str, int]) -> tuple[Shape, ...]:
    """``counts[colour]`` circles or triangles per colour in distinct slots of the lower grid,
    32-38 px wide.

    Slots are 53 x 53 px and shapes keep at least 6 px from their slot's sides, so two shapes
    never touch (touching blobs would be counted as one). No squares: OCR reads a lone square
    as the glyph "■" and the blob is then taken for text.
    """
    wanted = [c for c, n in counts.items() for _ in range(n)]
    if len(wanted) > _COLS * _ROWS:
        raise ValueError(f"at most {_COLS * _ROWS} shapes fit on a card, got {len(wanted)}")
    slots = rng.sample(range(_COLS * _ROWS), len(wanted))
    out = []
    cw, ch = FRAME_SIZE[0] // _COLS, (FRAME_SIZE[1] - _TOP) // _ROWS
    for colour, slot in zip(wanted, slots):
        size = rng.randint(32, 38)
        col, row = slot % _COLS, slot // _COLS
        x = col * cw + rng.randint(6, cw - size - 6)
        y = _TOP + row * ch + rng.randint(4, ch - size - 4)
        out.append(Shape(colour, rng.choice(("circle", "triangle")), x, y, size))
    return tuple(sorted(out, key=lambda s: (s.y, s.x)))


def background(rng: random.Random, avoid: Sequence[str] = (), choices: Sequence[str] = BACKGROUNDS) -> str:
    return rng.choice([b for b in choices if b not in avoid])


def decoration(rng: random.Random, bg: str, most: int = 3) -> tuple[Shape, ...]:
    """A few shapes of random colours (not the background's), for filler scenes."""
    n = rng.randint(0, most)
    colours = [c for c in SHAPE_COLOURS if c != bg]
    counts: dict[str, int] = {}
    for _ in range(n):
        c = rng.choice(colours)
        counts[c] = counts.get(c, 0) + 1
    return shapes(rng, counts)


def filler_card(rng: random.Random, titles: Sequence[str]) -> Card:
    """A filler scene: a background, usually a title line from ``titles``, a few shapes."""
    lines = (rng.choice(titles),) if titles and rng.random() < 0.8 else ()
    bg = background(rng) if lines else background(rng, choices=BACKGROUNDS + ("grey",))
    return Card(0.0, bg, lines, decoration(rng, bg))


def speech_slot(text: str) -> float:
    """Seconds reserved for a spoken sentence: the renderer's voice (140 words a minute with
    pauses between words) needs about 0.45 s per word; it speeds up if a sentence would overrun."""
    return snap(math.ceil((0.5 * len(text.split()) + 0.4) / GRID) * GRID)


def lay_out(rng: random.Random, duration: float, cards: Sequence[Card], filler: Callable[[random.Random], Card],
            ordered: bool = False, lead: float = 4.0, intro: Card | None = None) -> Layout:
    """Place ``cards`` in a video of ``duration`` seconds with filler scenes around them.

    An ``intro`` card, if any, opens the video. Cards keep their order when ``ordered``, else
    they are shuffled. Gaps between cards (and before the first, after the last) are at least
    3 s (``lead`` before the first) and are tiled with filler scenes of at most 30 s each.
    """
    cards = list(cards)
    if not ordered:
        rng.shuffle(cards)
    out = Layout()
    t = 0.0
    if intro is not None:
        _place(out, intro, t, intro.length)
        t = snap(intro.length)
    free = duration - t - sum(c.length for c in cards)
    minimum = [lead] + [MIN_GAP] * len(cards)
    spare = free - sum(minimum)
    if spare < 0:
        raise ValueError(f"{len(cards)} cards do not fit in {duration} s")
    weights = [rng.random() + 0.2 for _ in minimum]
    gaps = [snap(m + spare * w / sum(weights)) for m, w in zip(minimum, weights)]
    gaps[-1] = snap(free - sum(gaps[:-1]))
    for i, gap in enumerate(gaps):
        pieces = max(1, math.ceil(gap / MAX_FILLER))
        for k in range(pieces):
            piece = snap(gap / pieces) if k < pieces - 1 else snap(gap - snap(gap / pieces) * (pieces - 1))
            if piece > 0:
                _place(out, filler(rng), t, piece)
                t = snap(t + piece)
        if i < len(cards):
            _place(out, cards[i], t, cards[i].length)
            t = snap(t + cards[i].length)
    return out


def _place(out: Layout, card: Card, start: float, length: float) -> None:
    end = snap(start + length)
    if card.tag is not None:
        out.tags[card.tag] = len(out.scenes)
    out.scenes.append(Scene(start, end, card.background, tuple(card.lines), tuple(card.shapes)))
    out.sounds.extend(Sound(snap(start + s.start), round(start + s.end, 3), s.kind, s.text, s.hz) for s in card.sounds)


def video(path: str, duration: float, layout: Layout, has_audio: bool = True) -> VideoPlan:
    return VideoPlan(path=path, duration=float(duration), scenes=tuple(layout.scenes),
                     sounds=tuple(sorted(layout.sounds, key=lambda s: s.start)) if has_audio else (),
                     has_audio=has_audio, tags=dict(layout.tags))


def draw_duration(rng: random.Random, needed: float) -> int:
    """A video length in whole seconds: 20-60 s (half the time), 60-120 s or 120-180 s, and at
    least ``needed``."""
    band = rng.choices(((20, 60), (60, 120), (120, 180)), weights=(0.5, 0.33, 0.17))[0]
    return max(int(math.ceil(needed)), rng.randint(*band))
