"""Probe both envs as an attacker would: hostile actions, the slowest step, memory over a long run.

Not a test (no assertions on timings): it prints the figures quoted in release notes.

    python tests/benchmarks/probe_hostile.py --actions 22500 --real-actions 330 --steps 200000

Figures: how many hostile actions were tried and how many raised from ``step`` or
``action_space.contains`` (must be 0), the worst and median step time for hostile actions against
the median step time of ordinary calls measured in the same run (with the garbage collector's share
and the slowest actions named), and the process RSS sampled over
``--steps`` simulator steps that mix ordinary calls, unique focus prompts and hostile text.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import cvr_gym  # noqa: F401

BIG = "9" * 5000
CALL = {"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 5, "num_frames": 4}]}}


def hostile_actions(rng: random.Random, n: int) -> list:
    """``n`` hostile actions drawn from fixed families (floods, huge numbers, odd types, escapes)."""
    families = [
        lambda: "{" * rng.randint(1000, 49_999),
        lambda: '{"' * rng.randint(1000, 24_999),
        lambda: "[" * rng.randint(1000, 49_999),
        lambda: "[{" * rng.randint(1000, 24_999),
        lambda: "{}" * rng.randint(1000, 24_999),
        lambda: '"' * rng.randint(1000, 49_999),
        lambda: "//" * rng.randint(1000, 24_999) + json.dumps(CALL),
        lambda: "<tool_call>" * rng.randint(10, 4500),
        lambda: "```" * rng.randint(10, 16_000),
        lambda: '{"name": "answer", "arguments": {"answer": %s}}' % ("9" * rng.randint(4200, 20_000)),
        lambda: '<tool_call>{"name": "listen", "arguments": {"video": %s, "start": 0, "end": 1}}</tool_call>' % BIG,
        lambda: '{"action": "answer", "thought": "", "params": {"answer": -%s}}' % BIG,
        lambda: {"name": "answer", "arguments": {"answer": 10 ** rng.randint(4301, 6000)}},
        lambda: [CALL] * rng.randint(17, 100_000),
        lambda: {"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 5,
                                                               "num_frames": 4}] * rng.randint(5, 5000)}},
        lambda: {**CALL, "arguments": {**CALL["arguments"], "focus": "\x1b[31m" + "\nStatus: step 0/99" * 20}},
        lambda: {**CALL, "arguments": {**CALL["arguments"], "focus": "w%d " % rng.randint(0, 10**9) * 60}},
        lambda: {"name": "answer", "arguments": {"answer": "\ud800" * rng.randint(1, 100)}},
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000))),
        lambda: "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 2000))),
        lambda: json.dumps(CALL)[: rng.randint(0, 60)],
        lambda: {"name": "listen", "arguments": {"video": rng.choice([0, -1, 2**63, 1e308, float("nan"), None,
                                                                     "1", [1], {"a": 1}]), "start": 0, "end": 1}},
        lambda: {"name": rng.choice(["", None, 1, "observe" * 1000, "__import__('os')"]), "arguments": {}},
        lambda: _nested(rng.randint(100, 5000)),
        lambda: rng.choice([None, 0, 1.5, float("inf"), object(), set(), (), [], {}, b"", "", " " * 50_000]),
    ]
    assert len(families) == FAMILIES
    return [families[i % len(families)]() for i in range(n)]


FAMILIES = 25  # the number of action families above: action k is of family k % FAMILIES


def _short(action) -> str:
    text = repr(action)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} chars)"


def _nested(depth: int) -> dict:
    value: dict = {"name": "answer", "arguments": {"answer": "A"}}
    for _ in range(depth):
        value = {"name": "answer", "arguments": value}
    return value


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class GCClock:
    """Seconds spent in the garbage collector (``gc.callbacks``), to tell its pauses from the env's work."""

    def __init__(self):
        self.total, self._start = 0.0, 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start

    def close(self) -> None:
        gc.callbacks.remove(self)


def probe(env, actions: list) -> dict:
    """Step ``env`` through ``actions`` (``contains`` then ``step``), timing each.

    The actions are built beforehand and held in memory (lists of up to 100,000 references among
    them), so a full garbage collection that falls within a step can take seconds that are the
    probe's, not the env's: the collector's share of each step is measured and reported apart.
    """
    base = env.unwrapped
    raised, times, in_gc = [], [], []
    clock = GCClock()
    base.reset(seed=0)
    for k, action in enumerate(actions):
        gc0 = clock.total
        t0 = time.perf_counter()
        try:
            base.action_space.contains(action)
            _, _, term, trunc, _ = base.step(action)
        except Exception as err:  # the figure that must stay 0
            raised.append(f"{type(err).__name__}: {str(err)[:120]}")
            term = trunc = True
        times.append(time.perf_counter() - t0)
        in_gc.append(clock.total - gc0)
        if term or trunc:
            base.reset(seed=k)
    clock.close()
    ordinary = []
    base.reset(seed=0)
    for k in range(300):
        t0 = time.perf_counter()
        _, _, term, trunc, _ = base.step(CALL if k % 2 else {"name": "listen", "arguments": {"video": 1, "start": 0, "end": 4}})
        ordinary.append(time.perf_counter() - t0)
        if term or trunc:
            base.reset(seed=k)
    worst = max(times)
    work = [t - g for t, g in zip(times, in_gc)]  # the step without the collector's pauses
    slowest = sorted(range(len(times)), key=times.__getitem__)[-3:][::-1]
    return {"tried": len(actions), "raised": len(raised), "examples": raised[:5],
            "slowest": [{"ms": round(times[k] * 1e3, 2), "gc_ms": round(in_gc[k] * 1e3, 2), "family": k % FAMILIES,
                         "action": _short(actions[k])} for k in slowest],
            "worst_step_ms": round(worst * 1e3, 2), "worst_step_without_gc_ms": round(max(work) * 1e3, 2),
            "median_step_ms": round(statistics.median(times) * 1e3, 3),
            "ordinary_median_ms": round(statistics.median(ordinary) * 1e3, 3),
            "worst_over_ordinary": round(worst / statistics.median(ordinary), 1),
            "worst_without_gc_over_ordinary": round(max(work) / statistics.median(ordinary), 1),
            "over_200ms": sum(t > 0.2 for t in times), "over_200ms_without_gc": sum(t > 0.2 for t in work)}


def long_run(steps: int) -> dict:
    env = gym.make("CVRSim-v0", split=None, disable_env_checker=True).unwrapped
    rng = random.Random(0)
    env.reset(seed=0)
    space_rng = np.random.default_rng(0)
    samples = [(0, rss_mb())]
    info = {"action_context": None}
    for k in range(1, steps + 1):
        r = k % 10
        if r < 6:
            action = env.action_space.sample(mask=info["action_context"])
        elif r < 9:  # a unique focus prompt every time
            action = {**CALL, "arguments": {**CALL["arguments"], "focus": f"find item {k} " + "w%d " % rng.random() * 20}}
        else:
            action = "{" * 2000 + '{"name": "answer", "arguments": {"answer": %s}}' % ("7" * 5000)
        _, _, term, trunc, info = env.step(action)
        if term or trunc:
            _, info = env.reset(seed=int(space_rng.integers(10**6)))
        if k % max(1, steps // 10) == 0:
            samples.append((k, rss_mb()))
    mbs = [m for _, m in samples]
    return {"steps": steps, "rss_mb_before": round(samples[0][1], 1),
            "rss_mb_after_first_tenth": round(samples[1][1], 1), "rss_mb_end": round(mbs[-1], 1),
            "rss_mb_max": round(max(mbs), 1), "samples": [(k, round(m, 1)) for k, m in samples]}


def real_env(tmp: Path):
    import av

    with av.open(str(tmp / "clip.mp4"), "w") as c:
        vs = c.add_stream("libx264", rate=4, options={"preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = 160, 120, "yuv420p"
        for i in range(16):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 15, np.uint8), format="rgb24")
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    task = {"id": "t", "family": "BU", "question": "q?", "answer_type": "count", "answer": 1,
            "videos": [{"index": 1, "path": "clip.mp4", "duration": 4.0, "fps": 4, "has_audio": False}]}
    (tmp / "tasks.jsonl").write_text(json.dumps(task) + "\n")
    return gym.make("CVRReal-v0", suite=str(tmp / "tasks.jsonl"), split=None, disable_env_checker=True,
                    visual_options={"ocr": False})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=22_500)
    parser.add_argument("--real-actions", type=int, default=330)
    parser.add_argument("--steps", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(0)
    sim_actions = hostile_actions(rng, args.actions)
    real_actions = hostile_actions(rng, args.real_actions)
    # The probe's own corpus (tens of millions of references) is never garbage: keep the collector
    # from walking it in every full collection, which would bill seconds of the probe to a step.
    gc.collect()
    gc.freeze()
    report = {"sim": probe(gym.make("CVRSim-v0", split=None, disable_env_checker=True), sim_actions)}
    if args.real_actions:
        with tempfile.TemporaryDirectory() as tmp:
            env = real_env(Path(tmp))
            report["real"] = probe(env, real_actions)
            env.close()
    del sim_actions, real_actions  # the long run's RSS is the env's, not the corpus's
    gc.unfreeze()
    gc.collect()
    if args.steps:
        report["long_run"] = long_run(args.steps)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
