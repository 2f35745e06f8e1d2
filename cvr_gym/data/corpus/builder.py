"""Generating the renderable corpus: groups of videos per family, their tasks and render plans.

Groups are made round by round over the families (one group of every family per round) until
there are at least the requested number of videos; rounds are always complete, so every family
has as many groups as every other. Each group draws from its own :class:`random.Random` seeded with ``(seed, family,
group)``, so a group never changes when more videos are asked for, and the same arguments give
identical tasks (and plans) on every machine. Nothing here needs espeak-ng or PyAV.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from cvr_gym.core.tasks import Task, VideoSpec
from cvr_gym.data import families as family_packages
from cvr_gym.data.corpus.groups import Group
from cvr_gym.data.corpus.plan import VideoPlan

SOURCE = "cvr_gym-corpus"
LICENSE = "CC-BY-4.0"
GENERATOR_VERSION = 1
VIDEO_DIR = "videos"


@dataclass(frozen=True)
class Corpus:
    """Tasks per split and the plans of every video they use (paths relative to the suite)."""

    seed: int
    splits: dict[str, list[Task]]
    plans: tuple[VideoPlan, ...]

    @property
    def tasks(self) -> list[Task]:
        return [t for tasks in self.splits.values() for t in tasks]

    @property
    def total_seconds(self) -> float:
        return sum(p.duration for p in self.plans)


def parse_families(families: str | Iterable[str] | None) -> list[str]:
    if families is None or families == "all":
        return list(family_packages.CORPUS_BUILDERS)
    if isinstance(families, str):
        families = [f for f in families.split(",") if f.strip()]
    wanted = [f.strip().upper() for f in families]
    unknown = sorted(set(wanted) - set(family_packages.CORPUS_BUILDERS))
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {', '.join(family_packages.CORPUS_BUILDERS)}")
    return [f for f in family_packages.CORPUS_BUILDERS if f in wanted]


def build_group(seed: int, family: str, group: int) -> Group:
    rng = random.Random(f"{SOURCE}:{seed}:{family}:{group}")
    return family_packages.CORPUS_BUILDERS[family].build(rng, f"{VIDEO_DIR}/{family.lower()}-{group:02d}")


def group_tasks(seed: int, family: str, group: int, built: Group, split: str) -> list[Task]:
    """The tasks of one group, with ids, specs (path, duration, fps, audio, script) and spans."""
    specs = tuple(VideoSpec(index=i, duration=p.duration, fps=p.fps, has_audio=p.has_audio, path=p.path,
                            script=p.script()) for i, p in enumerate(built.videos, start=1))
    tasks = []
    for q, question in enumerate(built.questions):
        tasks.append(Task(
            id=f"corpus-s{seed}-{family}-{group:02d}-{q}", family=family, question=question.question,
            options=tuple(question.options), answer_type=question.answer_type, answer=question.answer,
            answer_video=question.answer_video, videos=specs, evidence=built.spans(question),
            scoring_points=tuple(question.scoring_points), source=SOURCE, license=LICENSE,
            meta={"generator": "cvr_gym.data.corpus", "version": GENERATOR_VERSION, "seed": seed, "split": split,
                  "group": group, "chance": round(question.chance, 6)}))
    return tasks


def generate_corpus(seed: int = 0, videos: int = 36, families: str | Iterable[str] | None = None,
                    test_groups: int = 2) -> Corpus:
    """Groups of every family, round by round, until there are at least ``videos`` videos.

    Arguments:
        seed: corpus seed.
        videos: least number of videos; whole rounds are made (one group per family each).
        families: family codes (list or ``"BU,NC"``); ``None`` for all eleven.
        test_groups: a family's first ``test_groups`` groups go to the ``test`` split, later
            ones to ``train`` (a group's tasks share videos, so a group is never split).
    """
    fams = parse_families(families)
    splits: dict[str, list[Task]] = {"test": [], "train": []}
    plans: list[VideoPlan] = []
    group = 0
    while group == 0 or len(plans) < videos:
        for family in fams:
            built = build_group(seed, family, group)
            split = "test" if group < test_groups else "train"
            splits[split].extend(group_tasks(seed, family, group, built, split))
            plans.extend(built.videos)
        group += 1
    return Corpus(seed, {k: v for k, v in splits.items() if v}, tuple(plans))
