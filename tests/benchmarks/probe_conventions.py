"""Figures for the Gymnasium-convention and data-safety checks of both envs.

Not a test (no assertions on timings): it prints the figures quoted in release notes.

    python tests/benchmarks/probe_conventions.py --vector-steps 3000 --episodes 1500

- vector envs: ``gym.make_vec("CVRSim-v0")`` sync and async, over the raw env (with non-ASCII
  answers crossing shared memory) and over ``wrap_env``, ``--vector-steps`` batched steps each
  with autoreset: episodes finished, batched steps per second against one plain env stepped in
  the same run (the baseline), and how long ``close()`` takes;
- step limits: a masked random agent under ``gym.make(..., max_episode_steps=5)`` against the
  same agent under ``max_steps=5``, plus what the prompt says and the termination reasons;
- a 1080p clip whose frames show their own time: the time each of 8 frames over 0-4 s is read as;
- two ``cvr-gym eval`` processes started at once on the same ``--out`` with ``--episodes N``:
  their exit codes, what the refused one printed, and how many records the file holds.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import cvr_gym  # noqa: F401
from cvr_gym.wrappers import DiscreteActions, wrap_env

UNICODE_ANSWER = '{"name": "answer", "arguments": {"answer": "é 東京 🙂"}}'


def vector_envs(steps: int) -> dict:
    single = gym.make("CVRSim-v0", split=None, max_episode_steps=5)
    obs, info = single.reset(seed=0)
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, info = single.step(single.action_space.sample())
        if term or trunc:
            single.reset()
    baseline = steps / (time.perf_counter() - t0)
    out = {"baseline_single_env_steps_per_s": round(baseline)}
    for wrapped in (False, True):
        for mode in ("sync", "async"):
            kwargs = {"wrappers": [wrap_env]} if wrapped else {"max_episode_steps": 5}
            envs = gym.make_vec("CVRSim-v0", num_envs=2, vectorization_mode=mode, split=None, **kwargs)
            envs.reset(seed=0)
            episodes, unicode_seen = 0, 0
            t0 = time.perf_counter()
            for i in range(steps):
                if wrapped:
                    actions = envs.action_space.sample()
                else:
                    actions = tuple(UNICODE_ANSWER if (i + k) % 4 == 0 else envs.single_action_space.sample()
                                    for k in range(2))
                obs, _, term, trunc, _ = envs.step(actions)
                episodes += int(np.sum(term | trunc))
                unicode_seen += sum("é 東京" in o for o in obs) if not wrapped else 0
            rate = steps / (time.perf_counter() - t0)
            t1 = time.perf_counter()
            envs.close()
            out[f"{'wrapped' if wrapped else 'raw'}_{mode}"] = {
                "batched_steps": steps, "env_steps": 2 * steps, "episodes": episodes,
                "unicode_answers_read_back": unicode_seen, "batched_steps_per_s": round(rate),
                "ratio_to_single_env": round(rate / baseline, 2), "close_s": round(time.perf_counter() - t1, 3)}
    return out


def _masked_random(env, episodes: int) -> tuple[float, collections.Counter, str]:
    rng = np.random.default_rng(0)
    scores, reasons = [], collections.Counter()
    obs, _ = env.reset(seed=0)
    budget = re.search(r"Budget: [^\n.]*", obs).group(0)
    for ep in range(episodes):
        _, info = env.reset(seed=ep)
        done = False
        while not done:
            _, _, term, trunc, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
            done = term or trunc
        scores.append(info["score"])
        reasons[info["termination_reason"]] += 1
    return float(np.mean(scores)), reasons, budget


def step_limits(episodes: int) -> dict:
    out = {}
    for label, kwargs in (("max_episode_steps=5", {"max_episode_steps": 5}), ("max_steps=5", {"max_steps": 5})):
        score, reasons, budget = _masked_random(DiscreteActions(gym.make("CVRSim-v0", split=None, **kwargs)), episodes)
        out[label] = {"masked_random_score": round(score, 3), "reasons": dict(reasons), "prompt": budget}
    return out


def clock_video(path: Path, seconds: float = 4.0, size=(1920, 1080), fps: int = 4) -> Path:
    """Each frame shows its own time as ``T=00.25`` in small black text on white."""
    import av
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=40)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps, options={"g": str(fps), "preset": "ultrafast"})
        vs.width, vs.height = size
        vs.pix_fmt = "yuv420p"
        for i in range(int(round(seconds * fps))):
            img = Image.new("RGB", size, (255, 255, 255))
            ImageDraw.Draw(img).text((size[0] // 3, size[1] // 2), f"T={i / fps:05.2f}", fill=(0, 0, 0), font=font)
            for p in vs.encode(av.VideoFrame.from_image(img)):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    return path


def clock_frames(tmp: Path) -> dict:
    from cvr_gym.perception.decode import MediaReader
    from cvr_gym.perception.offline_visual import OfflineVisualBackend

    clip = clock_video(tmp / "clock.mp4")
    times = [0.25 + 0.5 * k for k in range(8)]
    with MediaReader(clip, max_side=None) as reader:
        frames = reader.frames_at(times)
    backend = OfflineVisualBackend(objects=False, background=False)
    t0 = time.perf_counter()
    records = backend.describe(frames, times, "")
    seconds = time.perf_counter() - t0
    read = []
    for recs in records:
        found = [m.group(1) for r in recs if r.kind == "text" for m in [re.search(r"(\d+\.\d\d)", r.content)] if m]
        read.append(float(found[0]) if found else None)
    return {"resolution": f"{frames[0].shape[1]}x{frames[0].shape[0]}", "asked_s": times, "read_s": read,
            "correct": sum(a == b for a, b in zip(times, read)), "of": len(times),
            "ocr_s_per_frame": round(seconds / len(times), 3)}


def concurrent_writers(tmp: Path, episodes: int) -> dict:
    out = tmp / "shared.jsonl"
    cmd = [sys.executable, "-m", "cvr_gym.cli", "eval", "--suite", "default", "--split", "all", "--agent", "random",
           "--episodes", str(episodes), "--out", str(out), "--no-progress", "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    from cvr_gym.evaluation.results import read_results

    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    return {"episodes_per_run": episodes, "exit_codes": [p.returncode for p in procs],
            "refusals": [err.strip().splitlines()[-1] for (_, err), p in zip(results, procs) if p.returncode],
            "lines_in_file": len(lines), "records_read": len(read_results(out, strict=True))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vector-steps", type=int, default=3000)
    parser.add_argument("--limit-episodes", type=int, default=300)
    parser.add_argument("--episodes", type=int, default=1500, help="episodes of each concurrent eval run")
    args = parser.parse_args()
    report = {"vector_envs": vector_envs(args.vector_steps), "step_limits": step_limits(args.limit_episodes)}
    with tempfile.TemporaryDirectory() as tmp:
        report["clock_1080p"] = clock_frames(Path(tmp))
        report["concurrent_writers"] = concurrent_writers(Path(tmp), args.episodes)
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
