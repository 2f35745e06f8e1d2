"""BU, behavioural understanding: in which videos do bystanders react in a given way (multi).

Every video shows the same kind of incident (a man drops his papers, a child cries alone, ...)
as a longer scene, and a short beat inside it shows how a bystander reacts. The question names
one reaction; the answer is the set of videos showing it, drawn uniformly among the non-empty
subsets, so a blind guess scores 1 / (2^n - 1). Distractors are other incidents with their own
reactions.

Beat attributes: ``incident`` and ``reaction`` (both exactly as the question words them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import STREET
from cvr_gym.data.families.procedural_common import (
    Draft, about, attr, durations, lay_out, letter, mentions, nonempty_subset, num_videos, video_options,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "BU"
ANSWER_TYPE = "multi"


@dataclass(frozen=True)
class Incident:
    """An incident (``incident`` is how questions name it) and the reactions it may get.

    ``reactions`` maps the question's wording of a reaction to the beat that shows it.
    """

    incident: str
    scene: str
    question: str  # with {r} for the reaction
    reactions: dict[str, str]


INCIDENTS: tuple[Incident, ...] = (
    Incident(
        "drops a stack of papers", "a man drops a stack of papers in a busy hallway",
        "After a man drops a stack of papers, in which videos does a passer-by {r}?",
        {"help pick them up": "a passer-by kneels down and helps gather up the papers",
         "walk past without helping": "passers-by step around the scattered papers and keep walking",
         "laugh and film it": "a passer-by laughs and films the scene on a phone",
         "call a security guard over": "a passer-by waves a security guard over to the man"},
    ),
    Incident(
        "heavy suitcase", "a woman struggles to carry a heavy suitcase up the station stairs",
        "When a woman struggles with a heavy suitcase on the stairs, in which videos does a passer-by {r}?",
        {"carry it up for her": "a young man takes the suitcase and carries it to the top",
         "ignore her": "people hurry past her without looking up",
         "point her to the lift": "a passer-by points her towards the lift",
         "take a photo of her": "a tourist stops to take a photo of her"},
    ),
    Incident(
        "crying alone", "a small child stands crying alone near the shop entrance",
        "When a small child is crying alone near the shop entrance, in which videos does a passer-by {r}?",
        {"crouch down to comfort the child": "a woman crouches down and talks gently to the child",
         "take the child to a shop assistant": "a man leads the child by the hand to a shop assistant",
         "walk on without stopping": "shoppers glance at the child and walk on",
         "phone for help": "a man stops and makes a phone call while keeping an eye on the child"},
    ),
    Incident(
        "cup of coffee", "a café customer knocks a full cup of coffee off the table",
        "After a café customer knocks a cup of coffee off the table, in which videos does someone nearby {r}?",
        {"hand over napkins": "the person at the next table passes over a pile of napkins",
         "fetch a mop": "a waiter hurries over with a mop and bucket",
         "move away": "nearby customers pick up their bags and move to another table",
         "buy a replacement": "a stranger orders a fresh coffee and brings it over"},
    ),
)


def _scene(incident: Incident, reaction: str, key: bool) -> Scene:
    beat = Beat("visual", incident.reactions[reaction], {"incident": incident.incident, "reaction": reaction}, key=key)
    return Scene(incident.scene, [beat])


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    incident = rng.choice(INCIDENTS)
    reactions = sorted(incident.reactions)
    target = rng.choice(reactions)
    gold = nonempty_subset(rng, n)
    scenes = [[_scene(incident, target if i in gold else rng.choice([r for r in reactions if r != target]), key=True)]
              for i in range(n)]
    others = [x for x in INCIDENTS if x is not incident]

    def distractor(rng_: random.Random, video: int) -> Scene:
        other = rng_.choice(others)
        return _scene(other, rng_.choice(sorted(other.reactions)), key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, STREET)
    return Draft(question=incident.question.format(r=target), answer_type=ANSWER_TYPE,
                 answer=[letter(i) for i in gold], videos=videos, options=video_options(n),
                 chance=1.0 / (2 ** n - 1))


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """Videos whose reaction beat to the question's incident is the reaction the question names.

    With no such video seen, the videos not seen reacting otherwise; at worst ``["A"]``.
    """
    n = max(1, len(view.options) or view.num_videos)
    showing, other = set(), set()
    for ev in about(evidence, view.question, "incident"):
        if not 1 <= ev.video <= n:
            continue
        (showing if mentions(view.question, attr(ev, "reaction")) else other).add(ev.video)
    if showing:
        return [letter(v - 1) for v in sorted(showing)]
    unseen = [v for v in range(1, n + 1) if v not in other]
    return [letter(v - 1) for v in unseen] if unseen and other else ["A"]
