"""Plain stable-baselines3 PPO (no action masks) on CVRSim-v0, with and without the classic-RL options.

Unmasked algorithms see every catalogue action as allowed. Without help they learn to repeat
free ``listen`` calls and never answer (score 0). ``wrap_env``'s defaults give them what they need:
a penalty for masked actions (``masked_penalty``; repeats are masked), an answer forced when an
action would end the episode unanswered and, with ``flat=True``, one ``Box`` observation for
``MlpPolicy``.
This script trains PPO on both settings and prints the test-split score of each (greedy and
sampled actions) at the given numbers of training steps, next to a uniform random policy over the
same actions.

    python examples/train_sb3_ppo_unmasked.py --timesteps 40000 80000 150000
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym.wrappers import wrap_env

CATALOGUE = {"scales": (1, 2), "frame_counts": (8, 16, 32, 64), "num_choices": 0}
SETTINGS = {
    "wrap_env defaults": {},
    "no classic-RL options": {"call_cost": 0.0, "masked_penalty": 0.0, "force_answer_at_last_step": False},
}


def make_env(suite: str, split: str, options: dict):
    env = gym.make("CVRSim-v0", suite=suite, split=split, disable_env_checker=True)
    return wrap_env(env, flat=True, **CATALOGUE, **options)


def play(env, choose, n_tasks: int) -> float:
    """Mean score over every task of the env's split, once each."""
    scores = []
    for i in range(n_tasks):
        obs, info = env.reset(options={"task_index": i, "group_id": f"eval-{i}"})
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(choose(obs))
            done = term or trunc
        scores.append(info["score"])
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="default")
    parser.add_argument("--timesteps", type=int, nargs="+", default=[150_000],
                        help="training steps at which to evaluate (training continues between them)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    rows = []
    for label, options in SETTINGS.items():
        env = make_env(args.suite, "train", options)
        model = PPO("MlpPolicy", env, n_steps=512, batch_size=128, n_epochs=4, learning_rate=3e-4,
                    ent_coef=0.01, gamma=1.0, seed=args.seed, device="cpu", verbose=0)
        test = make_env(args.suite, "test", options)
        n = len(test.unwrapped.suite)
        t0, trained = time.time(), 0
        for steps in sorted(args.timesteps):
            model.learn(steps - trained, reset_num_timesteps=trained == 0)
            trained = steps
            train_s = time.time() - t0
            greedy = play(test, lambda o: model.predict(o, deterministic=True)[0], n)
            sampled = play(test, lambda o: model.predict(o, deterministic=False)[0], n)
            rows.append((f"PPO, {label}", steps, greedy, sampled, train_s))
            t0 = time.time() - train_s  # evaluation time is not training time
        rng = np.random.default_rng(args.seed)
        rand = play(test, lambda o: int(rng.integers(test.action_space.n)), n)
        rows.append((f"uniform random, {label}", 0, rand, rand, 0.0))
    print(f"CVRSim-v0, suite {args.suite!r}, test split ({n} tasks)")
    print(f"{'policy':42s} {'steps':>7s} {'greedy':>7s} {'sampled':>8s} {'train s':>8s}")
    for name, steps, g, s, t in rows:
        print(f"{name:42s} {steps:7d} {g:7.3f} {s:8.3f} {t:8.0f}")


if __name__ == "__main__":
    main()
