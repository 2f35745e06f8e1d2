"""FSA, functional step alignment: find the step in another video with the same purpose (interval).

The question points at a short step in a reference video by its time ("between 312.4 and
314.9 s") without saying what it is. The agent looks there, learns the step's purpose (e.g.
thickening the sauce with flour), then searches the answer video for the step that serves the
same purpose done another way (a cornstarch slurry). The answer is that step's ``[start, end]``.
Steps with other purposes fill both videos as distractors.

Beat attribute: ``purpose`` (the step's function, shared by the two key beats).
"""

from __future__ import annotations

import random
import re
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import KITCHEN
from cvr_gym.data.families.procedural_common import Draft, attr, durations, lay_out, num_videos, unique, video_numbers
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "FSA"
ANSWER_TYPE = "interval"
_WINDOW = re.compile(r"between ([\d.]+) and ([\d.]+) s")
#: Half-width in seconds given to a step seen at a single frame.
POINT_PAD = 1.0

#: purpose -> (context scene, three ways of doing it)
PURPOSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "thicken the sauce": ("the cook turns to the sauce on the stove", (
        "the cook whisks a spoonful of flour into the sauce",
        "the cook stirs a cornstarch slurry into the sauce",
        "the cook lets the sauce bubble hard until it reduces")),
    "tenderise the meat": ("the cook unwraps the meat on a board", (
        "the cook pounds the chicken breasts flat with a mallet",
        "the cook rubs the steak with grated kiwi fruit",
        "the cook soaks the lamb in a yoghurt marinade")),
    "add acidity": ("the cook tastes the dish and adjusts it", (
        "the cook squeezes half a lemon over the pan",
        "the cook splashes red wine vinegar into the pan",
        "the cook stirs a spoonful of tamarind paste into the pan")),
    "add crunch": ("the cook prepares a topping for the dish", (
        "the cook scatters toasted breadcrumbs over the top",
        "the cook sprinkles crushed peanuts over the top",
        "the cook tops the dish with fried croutons")),
    "keep the food warm": ("the cook finishes the first batch", (
        "the cook covers the plate with kitchen foil",
        "the cook slides the tray into a low oven",
        "the cook sets the pot on a back burner over the lowest heat")),
    "add freshness": ("the cook gets the herbs ready", (
        "the cook tears fresh basil over the dish",
        "the cook scatters chopped coriander on top",
        "the cook finishes the dish with a handful of mint leaves")),
}


def _scene(purpose: str, method: str, key: bool, tag: str | None = None) -> Scene:
    return Scene(PURPOSES[purpose][0], [Beat("visual", method, {"purpose": purpose}, key=key, tag=tag)])


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    ref, target = rng.sample(range(n), 2)
    purpose = rng.choice(sorted(PURPOSES))
    ref_method, target_method = rng.sample(PURPOSES[purpose][1], 2)
    scenes: list[list[Scene]] = [[] for _ in range(n)]
    scenes[ref].append(_scene(purpose, ref_method, key=True, tag="ref"))
    scenes[target].append(_scene(purpose, target_method, key=True, tag="target"))
    others = [p for p in sorted(PURPOSES) if p != purpose]

    def distractor(rng_: random.Random, video: int) -> Scene:
        # Other purposes in the two key videos; any purpose (another way of doing it) elsewhere.
        pool = others if video - 1 in (ref, target) else sorted(PURPOSES)
        p = rng_.choice(pool)
        return _scene(p, rng_.choice(PURPOSES[p][1]), key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, KITCHEN)
    ref_item, target_item = videos[ref].tagged["ref"], videos[target].tagged["target"]
    question = (f"In video {ref + 1}, between {ref_item.start:.1f} and {ref_item.end:.1f} s, the cook does one step "
                f"of a recipe. In video {target + 1}, when does the cook do a step that serves the same purpose, "
                "even if it is done differently?")
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=[target_item.start, target_item.end],
                 videos=videos, answer_video=target + 1, chance=0.0)


def _blind(view: TaskView, video: int) -> list[float]:
    duration = view.durations[video - 1] if 0 < video <= view.num_videos else 60.0
    return [round(duration / 2 - 1.5, 1), round(duration / 2 + 1.5, 1)]


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """Learn the purpose of the referenced step, then return where the answer video does it.

    The reference step is the record with a ``purpose`` in the quoted video that overlaps the
    quoted window most. A step seen at a single frame gets :data:`POINT_PAD` seconds either side.
    Missing pieces give the middle of the answer video.
    """
    named = video_numbers(view.question)
    target = view.answer_video or (named[1] if len(named) > 1 else 2)
    ref_video = next((v for v in named if v != target), 1)
    m = _WINDOW.search(view.question)
    if not m:
        return _blind(view, target)
    w_start, w_end = float(m.group(1)), float(m.group(2))
    records = [ev for ev in unique(evidence) if isinstance(attr(ev, "purpose"), str)]
    refs = [ev for ev in records if ev.video == ref_video and ev.start <= w_end and ev.end >= w_start]
    if not refs:
        return _blind(view, target)
    best = max(refs, key=lambda ev: (min(ev.end, w_end) - max(ev.start, w_start), -ev.start))
    hits = [ev for ev in records if ev.video == target and attr(ev, "purpose") == attr(best, "purpose")]
    if not hits:
        return _blind(view, target)
    start, end = min(ev.start for ev in hits), max(ev.end for ev in hits)
    if end - start < 0.05:
        start, end = max(0.0, start - POINT_PAD), end + POINT_PAD
    return [round(start, 2), round(end, 2)]
