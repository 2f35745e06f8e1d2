"""FSA: find in video 2 the step with the same purpose as a step shown in video 1 (interval).

Step cards read ``("THICKEN THE SAUCE", "WITH FLOUR")``: a purpose and the means. Video 1 shows
two or three steps; video 2 shows the same purposes done with other means, in another order,
plus a step with a purpose of its own. The question quotes the time of one step in video 1;
the answer is the ``[start, end]`` of the matching step in video 2.
"""

from __future__ import annotations

import random
import re

from cvr_gym.data.corpus.groups import Group, Question, build_videos, narrated
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.match import closest, of_kind
from cvr_gym.data.corpus.reading import CorpusReader, CARD_SECONDS

CODE = "FSA"
MARK = "the step that serves the same purpose"
#: Purpose -> ways of doing it (the second line of a card). Shared with CCQA.
PURPOSES = {
    "THICKEN THE SAUCE": ("WITH FLOUR", "WITH CORNSTARCH", "WITH BUTTER"),
    "SWEETEN THE TEA": ("WITH HONEY", "WITH SUGAR", "WITH SYRUP"),
    "SEASON THE SOUP": ("WITH SALT", "WITH PEPPER", "WITH HERBS"),
    "CRISP THE BREAD": ("IN THE OVEN", "IN A PAN", "UNDER THE GRILL"),
    "COOL THE SOUP": ("ON THE WINDOW", "IN ICE WATER", "IN THE FRIDGE"),
    "GREASE THE TIN": ("WITH OIL", "WITH LARD", "WITH PAPER"),
}
TITLES = ("COOKING SHOW", "KITCHEN CAM", "RECIPE TIME")

INTRO = narrated("RECIPE TIME", "Here is another way to do it.")


def _card(rng: random.Random, purpose: str, means: str, tag: str) -> Card:
    bg = background(rng)
    return Card(rng.choice((3.5, 4.0)), bg, (purpose, means), decoration(rng, bg, 2), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    k = rng.randint(2, 3)
    purposes = rng.sample(sorted(PURPOSES), k + 1)
    shared, extra = purposes[:k], purposes[k]
    means = {p: rng.sample(PURPOSES[p], 2) for p in shared}
    first = [_card(rng, p, means[p][0], f"a{i}") for i, p in enumerate(shared)]
    second = [_card(rng, p, means[p][1], f"b{i}") for i, p in enumerate(shared)]
    second.append(_card(rng, extra, rng.choice(PURPOSES[extra]), "extra"))
    videos = build_videos(rng, prefix, [first, second], lambda i: lambda r: filler_card(r, TITLES + (f"COOK {i}",)),
                          intro=INTRO)
    questions = []
    for i in rng.sample(range(k), 2):
        s, e = videos[0].visible(videos[0].scene(f"a{i}"))
        gold = videos[1].visible(videos[1].scene(f"b{i}"))
        questions.append(Question(
            f"Between {s:.2f} and {e:.2f} s, video 1 shows a cooking step. When does video 2 show {MARK}?",
            "interval", list(gold), [(1, f"a{i}"), (2, f"b{i}")], answer_video=2, chance=0.0))
    return Group(videos, questions)


class FSAReader(CorpusReader):
    """The purpose shown in video 1's window; the span of the same purpose in the answer video."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        m = re.search(r"Between ([\d.]+) and ([\d.]+) s, video (\d+)", view.question)
        target = view.answer_video or 2
        if not m:
            return self.guess(view)
        s, e, ref = float(m.group(1)), float(m.group(2)), int(m.group(3))
        purposes = [closest(ev.content, PURPOSES, 0.75) for ev in of_kind(evidence, "text", video=ref)
                    if ev.start <= e and ev.end >= s]
        purposes = [p for p in purposes if p]
        if not purposes:
            return self.guess(view)
        purpose = max(set(purposes), key=purposes.count)
        hits = [ev for ev in of_kind(evidence, "text", video=target)
                if closest(ev.content, PURPOSES, 0.75) == purpose]
        if not hits:
            return self.guess(view)
        # The longest run of overlapping records is the step (a second sighting elsewhere is noise).
        hits.sort(key=lambda ev: ev.start)
        runs: list[list[float]] = []
        for ev in hits:
            if runs and ev.start <= runs[-1][1] + 0.6:
                runs[-1][1] = max(runs[-1][1], ev.end)
            else:
                runs.append([ev.start, ev.end])
        start, end = max(runs, key=lambda r: r[1] - r[0])
        if end - start < CARD_SECONDS:
            # Seen on few frames: a step card lasts 3-4.5 s, so widen to that, but not over what
            # other records show was on screen before and after it.
            others = [ev for ev in of_kind(evidence, "text", "visual", "object", video=target)
                      if ev.end < start or ev.start > end]
            lo = max((ev.end for ev in others if ev.end < start), default=0.0)
            hi = min((ev.start for ev in others if ev.start > end), default=float("inf"))
            mid = (start + end) / 2
            start, end = max(lo, min(start, mid - CARD_SECONDS / 2)), min(hi, max(end, mid + CARD_SECONDS / 2))
        return [round(start, 2), round(end, 2)]

    def guess(self, view):
        d = view.durations[(view.answer_video or 2) - 1] if len(view.durations) >= (view.answer_video or 2) else 60.0
        return [round(d / 2 - 1.75, 2), round(d / 2 + 1.75, 2)]


#: The corpus reader of FSA questions.
READER = FSAReader()
