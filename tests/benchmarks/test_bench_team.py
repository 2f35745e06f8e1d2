"""Team env speed: one round of 4 seats against one single-env step. Run with --benchmark-only.

Read the round's median against 4 single steps from the same run: the team's overhead is the
memory (novelty keys, entry text) and the per-seat observation and info.
"""

import pytest

from cvr_gym.team import parallel_env

OBSERVE_JSON = ('{"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 60, '
                '"num_frames": 8}], "focus": "car"}}')


@pytest.mark.parametrize("topology", ["full", "dropout"])
def test_bench_team_round(benchmark, topology):
    env = parallel_env("CVRSim-v0", num_agents=4, split="test", topology=topology)
    env.reset(seed=0)
    env.max_rounds = 10**9  # keep one episode running so only step() is timed
    for e in env.envs:
        e.max_steps = e.frame_budget = 10**9
    actions = dict.fromkeys(env.possible_agents, OBSERVE_JSON)
    benchmark.pedantic(env.step, args=(actions,), rounds=2_000, iterations=1, warmup_rounds=50)


def test_bench_single_step_for_the_team_ratio(benchmark):
    env = parallel_env("CVRSim-v0", num_agents=1, split="test").envs[0]
    env.reset(seed=0)
    env.max_steps = env.frame_budget = 10**9
    benchmark.pedantic(env.step, args=(OBSERVE_JSON,), rounds=2_000, iterations=1, warmup_rounds=50)
