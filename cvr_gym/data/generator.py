"""Generating task suites: seeded, per-task independent and byte-for-byte reproducible.

Each task draws from its own :class:`random.Random` seeded with ``(seed, split, family,
index)``, so a task does not change when more tasks are asked for, and the same arguments give
identical JSONL on every machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cvr_gym.core.tasks import FAMILIES, Task
from cvr_gym.data.difficulty import Difficulty, resolve_difficulty
from cvr_gym.data.families import FAMILY_MODULES
from cvr_gym.data.families.procedural_common import TaskRandom

GENERATOR = "cvr_gym.data"
GENERATOR_VERSION = 1
SOURCE = "cvr_gym-procedural"
LICENSE = "CC-BY-4.0"


def parse_families(families: str | Iterable[str] | None) -> list[str]:
    """Family codes in canonical order; ``None``/``"all"`` means every family."""
    if families is None or families == "all":
        return list(FAMILY_MODULES)
    if isinstance(families, str):
        families = [f for f in families.split(",") if f.strip()]
    wanted = [f.strip().upper() for f in families]
    unknown = sorted(set(wanted) - set(FAMILY_MODULES))
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {', '.join(FAMILY_MODULES)}")
    return [f for f in FAMILY_MODULES if f in wanted]


def task_rng(seed: int, split: str, family: str, index: int) -> TaskRandom:
    """The task's own stream; gold positions are balanced over consecutive tasks of the family."""
    return TaskRandom(f"{SOURCE}:{seed}:{split}:{family}:{index}", key=f"{SOURCE}:{seed}:{split}:{family}", index=index)


def generate_task(family: str, seed: int = 0, index: int = 0, split: str = "train",
                  difficulty: str | Difficulty | Sequence[Difficulty] = "medium", **overrides: Any) -> Task:
    """One task of ``family``; ``overrides`` replace :class:`Difficulty` fields (e.g. ``duration=(60, 120)``)."""
    presets = resolve_difficulty(difficulty, **overrides)
    return _make(family, seed, index, split, presets)


def _make(family: str, seed: int, index: int, split: str, presets: Sequence[Difficulty]) -> Task:
    module = FAMILY_MODULES[family]
    rng = task_rng(seed, split, family, index)
    diff = presets[0] if len(presets) == 1 else rng.choice(presets)
    draft = module.generate(rng, diff)
    spans = draft.evidence if draft.evidence is not None else [s for v in draft.videos for s in v.spans]
    return Task(
        id=f"s{seed}-{split}-{family}-{index:05d}",
        family=family,
        question=draft.question,
        options=tuple(draft.options),
        answer_type=draft.answer_type,
        answer=draft.answer,
        answer_video=draft.answer_video,
        videos=tuple(v.spec for v in draft.videos),
        evidence=tuple(sorted(spans, key=lambda s: (s.video, s.start, s.end))),
        scoring_points=tuple(draft.scoring_points),
        source=SOURCE,
        license=LICENSE,
        meta={"generator": GENERATOR, "version": GENERATOR_VERSION, "seed": seed, "split": split,
              "index": index, "difficulty": diff.name, "chance": round(draft.chance, 6)},
    )


def generate_suite(seed: int = 0, n_per_family: int = 10, families: str | Iterable[str] | None = None,
                   difficulty: str | Difficulty | Sequence[Difficulty] = "medium", split: str = "train",
                   progress: Callable[[int], None] | None = None, **overrides: Any) -> list[Task]:
    """``n_per_family`` tasks of each family, families in canonical order.

    Arguments:
        seed: the suite seed.
        n_per_family: tasks per family (an int, or a mapping family -> count).
        families: codes (list or ``"BU,NC"``); ``None`` for all eleven.
        difficulty: ``"easy"``, ``"medium"``, ``"hard"``, ``"mixed"`` (each task draws one of
            the three), a :class:`Difficulty`, or a sequence of them (each task draws one).
        split: the split name; it is part of task ids and of the random streams, so splits of
            the same seed never share tasks.
        progress: called with 1 after each task (for progress bars).
        overrides: :class:`Difficulty` fields to replace, e.g. ``duration=(60.0, 300.0)``.

    Use :func:`to_jsonl` or :func:`write_jsonl` to serialise; both are byte-stable.
    """
    presets = resolve_difficulty(difficulty, **overrides)
    counts = n_per_family if isinstance(n_per_family, Mapping) else None
    tasks = []
    for family in parse_families(families):
        n = int(counts.get(family, 0)) if counts is not None else int(n_per_family)
        for index in range(n):
            tasks.append(_make(family, seed, index, split, presets))
            if progress is not None:
                progress(1)
    return tasks


def spread(total: int, families: Sequence[str]) -> dict[str, int]:
    """``total`` tasks shared out over ``families`` as evenly as possible (earlier families get the rest)."""
    base, rest = divmod(int(total), len(families))
    return {f: base + (i < rest) for i, f in enumerate(families)}


def generate_splits(seed: int = 0, sizes: Mapping[str, int] | None = None,
                    families: str | Iterable[str] | None = None,
                    difficulty: str | Difficulty | Sequence[Difficulty] = "mixed",
                    progress: Callable[[int], None] | None = None, **overrides: Any) -> dict[str, list[Task]]:
    """Several splits at once; ``sizes`` maps split name -> total tasks (spread over families)."""
    sizes = dict(sizes or {"train": 660, "val": 110, "test": 220})
    fams = parse_families(families)
    return {split: generate_suite(seed, spread(total, fams), fams, difficulty, split, progress, **overrides)
            for split, total in sizes.items()}


def task_json(task: Task) -> str:
    """One compact, deterministic JSON line (defaults left out, licence always written)."""
    data = task.model_dump(mode="json", exclude_defaults=True)
    data["license"] = task.license
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def to_jsonl(tasks: Iterable[Task]) -> str:
    return "".join(task_json(t) + "\n" for t in tasks)


def write_jsonl(tasks: Iterable[Task], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for task in tasks:
            fh.write(task_json(task) + "\n")
    return path


assert set(FAMILY_MODULES) == set(FAMILIES), "every family code needs a generator"
