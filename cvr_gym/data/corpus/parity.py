"""Sim/real parity of a rendered corpus: oracle scores in both envs and per-item recall.

For every task, an oracle-like plan looks at each gold evidence span (frames just inside its
ends, 2 per second, at least 4) and listens to it when the video has sound; the same calls run
in ``CVRSim-v0`` (scripts) and ``CVRReal-v0`` (decoding and offline perception), and the corpus
reader answers from what each returned. Recall compares, call by call, the script items the
simulator reported (the items the sampled frames or the listened window touched) with the
records real perception returned for the same call: an item is recalled when a record of the
same video and kind reads like it (:func:`~cvr_gym.data.corpus.match.ratio` >= 0.8; object
counts must match exactly). Run ``python -m cvr_gym.data.corpus.parity [SUITE]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.evidence import Evidence
from cvr_gym.core.suites import Suite, load_suite
from cvr_gym.data.corpus.match import ratio
from cvr_gym.data.corpus.readers import read_corpus_answer
from cvr_gym.data.view import TaskView

MATCH = 0.8


def oracle_calls(info: dict[str, Any], per_second: float = 2.0, least: int = 4, max_frames: int = 64) -> list[ToolCall]:
    """Observe every gold span (frames just inside its ends), then listen to it if there is sound."""
    durations = info["action_context"]["durations"]
    has_audio = info["action_context"]["has_audio"]
    calls = []
    for span in info["evidence_spans"]:
        v, s, e = int(span["video"]), float(span["start"]), min(float(span["end"]), durations[int(span["video"]) - 1])
        n = min(max_frames, max(least, math.ceil(per_second * (e - s))))
        step = (e - s) / max(1, n - 1)
        pad = max(0.0, step / 2 - min(0.02, step / 10))
        calls.append(ToolCall.observe(v, round(max(0.0, s - pad), 3), round(min(durations[v - 1], e + pad), 3), n))
        if has_audio[v - 1]:
            calls.append(ToolCall.listen(v, s, e))
    return calls


@dataclass
class Episode:
    """One task run in one env: its score and the evidence of each call."""

    score: float
    answer: Any
    steps: list[list[Evidence]] = field(default_factory=list)


def run_oracle(env: Any, task_id: str,
               reader: Callable[[TaskView, list[Evidence]], Any] = read_corpus_answer) -> Episode:
    """Play the oracle plan on ``task_id`` in ``env`` (made with ``privileged_info=True``)."""
    obs, info = env.reset(options={"task_id": task_id})
    view = TaskView.from_info(info)
    steps, gathered = [], []
    for call in oracle_calls(info):
        obs, reward, terminated, truncated, step_info = env.step(call)
        steps.append(list(step_info["evidence"]))
        gathered.extend(step_info["evidence"])
    answer = reader(view, gathered)
    obs, reward, terminated, truncated, step_info = env.step(ToolCall.answer(answer))
    return Episode(float(step_info["score"] or 0.0), answer, steps)


def recalled(item: Evidence, records: list[Evidence]) -> bool:
    for rec in records:
        if rec.video != item.video or rec.kind != item.kind:
            continue
        if item.kind == "object" and rec.content == item.content:
            return True
        if item.kind != "object" and ratio(rec.content, item.content) >= MATCH:
            return True
    return False


def recall(sim: Episode, real: Episode) -> dict[str, list[int]]:
    """kind -> [recalled, touched] over every call."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sim_step, real_step in zip(sim.steps, real.steps):
        for item in sim_step:
            out[item.kind][1] += 1
            out[item.kind][0] += recalled(item, real_step)
    return out


def parity(suite: str | Suite = "corpus", split: str | None = None, progress: Callable[[str], None] | None = None,
           **real_options: Any) -> dict[str, Any]:
    """Run the oracle plan on every task in both envs; scores per family and recall per kind."""
    import gymnasium as gym

    import cvr_gym  # noqa: F401  (registers the envs)

    suite = suite if isinstance(suite, Suite) else load_suite(suite, split=split)
    common = {"suite": suite, "privileged_info": True, "max_evidence_per_target": 100, "max_steps": 64,
              "frame_budget": 4096}
    sim = gym.make("CVRSim-v0", **common)
    real = gym.make("CVRReal-v0", **common, **real_options)
    per_family: dict[str, list[tuple[float, float]]] = defaultdict(list)
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    tasks = []
    t0 = time.perf_counter()
    try:
        for task in suite:
            a, b = run_oracle(sim, task.id), run_oracle(real, task.id)
            per_family[task.family].append((a.score, b.score))
            for kind, (hit, total) in recall(a, b).items():
                kinds[kind][0] += hit
                kinds[kind][1] += total
            tasks.append({"task": task.id, "family": task.family, "sim": a.score, "real": b.score,
                          "sim_answer": a.answer, "real_answer": b.answer})
            if progress is not None:
                progress(f"{task.id}: sim {a.score:.2f} real {b.score:.2f}")
    finally:
        sim.close()
        real.close()
    families = {f: {"tasks": len(v), "sim": sum(x for x, _ in v) / len(v), "real": sum(y for _, y in v) / len(v)}
                for f, v in per_family.items()}
    all_scores = [s for v in per_family.values() for s in v]
    sim_mean = sum(x for x, _ in all_scores) / len(all_scores)
    real_mean = sum(y for _, y in all_scores) / len(all_scores)
    return {"tasks": tasks, "families": families, "sim": sim_mean, "real": real_mean,
            "real_over_sim": real_mean / sim_mean if sim_mean else float("nan"),
            "recall": {k: {"recalled": h, "touched": t, "share": h / t if t else float("nan")}
                       for k, (h, t) in kinds.items()},
            "seconds": time.perf_counter() - t0}


def script_agreement(reference: Suite, perceived: Suite, slack: float = 1.0) -> dict[str, dict[str, float]]:
    """Per kind: how many reference script items a perceived script has (same kind, content
    reading alike, times overlapping within ``slack`` s) and how many perceived items the
    reference backs. Videos are matched by path; each is counted once."""
    def scripts(suite: Suite) -> dict[str, tuple]:
        return {v.path: v.script for t in suite for v in t.videos if v.path}

    ref, got = scripts(reference), scripts(perceived)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # recalled, reference, backed, perceived

    def found(item: Any, pool: tuple) -> bool:
        probe = Evidence(1, item.start, item.end, item.kind, item.content, dict(item.attributes))
        return recalled(probe, [Evidence(1, o.start, o.end, o.kind, o.content) for o in pool
                                if o.kind == item.kind and o.start <= item.end + slack and o.end >= item.start - slack])

    for path, items in ref.items():
        other = got.get(path, ())
        for item in items:
            counts[item.kind][0] += found(item, other)
            counts[item.kind][1] += 1
        for item in other:
            counts[item.kind][2] += found(item, items)
            counts[item.kind][3] += 1
    return {k: {"recall": r / n if n else float("nan"), "reference": n,
                "precision": b / m if m else float("nan"), "perceived": m}
            for k, (r, n, b, m) in sorted(counts.items())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Oracle sim-vs-real scores and evidence recall on a rendered corpus.")
    p.add_argument("suite", nargs="?", default="corpus")
    p.add_argument("--split", default=None)
    p.add_argument("--json", default=None, help="also write the full report here")
    p.add_argument("--perceived", default=None,
                   help="instead, compare the suite's scripts with these perceived ones (cvr-gym build-scripts)")
    args = p.parse_args(argv)
    if args.perceived:
        table = script_agreement(load_suite(args.suite, split=args.split), load_suite(args.perceived))
        for kind, row in table.items():
            print(f"{kind:7s} recall {row['recall']:.3f} of {row['reference']:4d}  "
                  f"precision {row['precision']:.3f} of {row['perceived']:4d}")
        return 0
    report = parity(args.suite, args.split, progress=lambda line: print(line, file=sys.stderr, flush=True))
    for family, row in report["families"].items():
        print(f"{family:5s} tasks {row['tasks']:2d}  sim {row['sim']:.3f}  real {row['real']:.3f}")
    print(f"all   sim {report['sim']:.3f}  real {report['real']:.3f}  real/sim {report['real_over_sim']:.3f}")
    for kind, row in sorted(report["recall"].items()):
        print(f"recall {kind:7s} {row['recalled']:4d}/{row['touched']:4d} = {row['share']:.3f}")
    print(f"{report['seconds']:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
