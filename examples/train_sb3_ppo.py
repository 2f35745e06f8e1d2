"""Train stable-baselines3 (sb3-contrib MaskablePPO) on CVRSim-v0 with the classic-RL wrappers.

The env is ``VectorObservation(DiscreteActions(CVRSim-v0))``: numbered tool calls with action
masks, and the episode so far as a ``Dict`` of ``Box``. By default the catalogue has no answer
choices (``num_choices=0``), so the agent answers through the ``answer_from_evidence``
macro-action (the generator's reader applied to the evidence it gathered): PPO learns *what to
look at and when to stop*, not how to reason over evidence. After training, the policy plays every
task of the test split once and its score is printed next to the random agent's (the reference
agent ``random`` from ``baselines``, which calls random tools and answers at random, and a masked
random policy over the same catalogue, which also uses the reader).

    python examples/train_sb3_ppo.py --timesteps 20000
    python examples/train_sb3_ppo.py --wrappers search --cost 0.95 --timesteps 40000

``--wrappers search`` uses the search wrappers of :mod:`cvr_gym.wrappers.search` instead (skim,
listen, zoom relative to question-matching evidence, rescans, absolute windows; coverage and
match-heat features) with the settings the ``active-search`` GRPO recipe trains with. ``--cost`` sets
the frame-cost weight of the training reward (the env's default is 0.1); evaluation reports score
and frames, which do not depend on it.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym.wrappers import wrap_env

CATALOGUE = {"scales": (1, 2), "frame_counts": (8, 16, 32, 64), "num_choices": 0}


def make_env(suite: str, split: str, wrappers: str = "classic", cost: float | None = None):
    kwargs = {"reward": {"cost": cost}} if cost is not None else {}
    env = gym.make("CVRSim-v0", suite=suite, split=split, disable_env_checker=True, **kwargs)
    if wrappers == "search":
        from cvr_gym.train.recipes import get_recipe
        from cvr_gym.wrappers.search import wrap_search_env

        recipe = get_recipe("active-search").config  # the same wrapper settings as the GRPO recipe
        return wrap_search_env(env, catalogue=recipe.get("catalogue"), encoder=recipe.get("encoder"))
    return wrap_env(env, **CATALOGUE)


def play(env, choose, n_tasks: int) -> tuple[float, float]:
    """Mean score and frames over every task of the env's split, once each."""
    scores, frames = [], []
    for i in range(n_tasks):
        obs, info = env.reset(options={"task_index": i, "group_id": f"eval-{i}"})
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(choose(obs, env.action_masks()))
            done = term or trunc
        scores.append(info["score"] or 0.0)
        frames.append(info["totals"]["frames"])
    return float(np.mean(scores)), float(np.mean(frames))


def reference_score(spec: str, suite: str, split: str, n_tasks: int, seed: int) -> tuple[float, float] | None:
    from cvr_gym.evaluation import make_agent, play_episode

    env = gym.make("CVRSim-v0", suite=suite, split=split, disable_env_checker=True)
    agent = make_agent(spec, seed=seed, action_space=env.action_space)
    scores, frames = [], []
    for i in range(n_tasks):
        info = play_episode(env, agent, {"task_index": i, "group_id": f"eval-{i}"}, seed=seed + i)
        scores.append(info["score"] or 0.0)
        frames.append(info["totals"]["frames"])
    return float(np.mean(scores)), float(np.mean(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="default")
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wrappers", choices=("classic", "search"), default="classic",
                        help="classic catalogue (whole videos and halves) or the search wrappers")
    parser.add_argument("--cost", type=float, default=None, help="frame-cost weight of the training reward")
    args = parser.parse_args()

    import torch
    from sb3_contrib import MaskablePPO

    torch.set_num_threads(1)
    env = make_env(args.suite, "train", args.wrappers, args.cost)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=1024, batch_size=256, n_epochs=4, learning_rate=3e-4,
                        ent_coef=0.01, gamma=1.0, seed=args.seed, device="cpu", verbose=0)
    t0 = time.time()
    model.learn(args.timesteps)
    print(f"trained MaskablePPO ({args.wrappers} wrappers) for {args.timesteps} steps in {time.time() - t0:.0f} s")

    test = make_env(args.suite, "test", args.wrappers, args.cost)
    n = len(test.unwrapped.suite)
    rng = np.random.default_rng(args.seed)
    rows = []
    for deterministic in (False, True):
        label = "MaskablePPO (greedy)" if deterministic else "MaskablePPO (sampled)"
        rows.append((label, *play(test, lambda o, m, d=deterministic: model.predict(o, action_masks=m, deterministic=d)[0], n)))
    rows.append(("masked random over the catalogue", *play(test, lambda o, m: int(rng.choice(np.flatnonzero(m))), n)))
    rand = reference_score("random", args.suite, "test", n, args.seed)
    if rand:
        rows.append(("random agent (baselines)", *rand))
    single = reference_score("single-pass:32", args.suite, "test", n, args.seed)
    if single:
        rows.append(("single-pass:32 (baselines)", *single))
    print(f"\nCVRSim-v0, suite {args.suite!r}, test split ({n} tasks)")
    print(f"{'agent':36s} {'score':>7s} {'frames':>8s}")
    for name, score, frames in rows:
        print(f"{name:36s} {score:7.3f} {frames:8.1f}")
    best_ppo = max(rows[0][1], rows[1][1])
    if rand:
        print("\nPPO beats the random agent" if best_ppo > rand[0] else "\nPPO does NOT beat the random agent")
    if single:
        ok = [r for r in rows[:2] if r[1] > single[0] and r[2] <= single[1]]
        print("PPO beats single-pass:32 at no more frames" if ok else "PPO does NOT beat single-pass:32 at no more frames")


if __name__ == "__main__":
    main()
