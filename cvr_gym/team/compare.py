"""Sim vs real for teams: the same team on the same tasks in ``CVRSim-v0`` and ``CVRReal-v0``.

The team counterpart of the single-agent comparison (same :class:`CompareConfig`, same episode
records and summary): per task one team episode in each world with the same seed (``paired``),
or the sim episode's rounds replayed in the real world (``replay``). A shadow sim team follows
the real episode round by round, so each real round's evidence (all seats together) is scored
against what the scripts say the same calls return. ``steps`` are rounds; ``wall_s`` is a
round's wall time (the seats' calls run one after another here) and ``frames`` the team's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cvr_gym.evaluation.compare import CompareConfig, _spread_tasks, recall_precision, summarise
from cvr_gym.evaluation.records import jsonable
from cvr_gym.team.env import CVRTeamEnv
from cvr_gym.team.play import TeamConfig, TeamFactory, _reset_agent


def _team_env(env_id: str, config: CompareConfig, team: TeamConfig, **extra: Any) -> CVRTeamEnv:
    kwargs = {"suite": config.suite, "split": config.split, **config.env_args, **extra}
    return CVRTeamEnv(env_id, team.num_agents, topology=team.topology, summariser=team.summariser,
                      **team.env_args, **kwargs)


def play_team_compared(env: CVRTeamEnv, agents: Sequence[Any], task_id: str, seed: int,
                       rounds: Sequence[dict] | None = None, shadow: CVRTeamEnv | None = None,
                       threshold: float = 0.7) -> dict[str, Any]:
    """One team episode (replaying ``rounds`` when given); with ``shadow`` score each round's
    evidence against a sim team stepped with the same actions."""
    obs, infos = env.reset(seed=seed, options={"task_id": task_id})
    if shadow is not None:
        shadow.reset(seed=seed, options={"task_id": task_id})
    if rounds is None:
        for agent, name in zip(agents, env.possible_agents):
            _reset_agent(agent, obs[name], infos[name], seed)
    seat = dict(zip(env.possible_agents, agents))
    steps: list[dict[str, Any]] = []
    taken: list[dict] = []
    k = 0
    while env.agents:
        if rounds is not None:
            if k >= len(rounds):
                break
            actions = rounds[k]
        else:
            actions = {a: seat[a].act(obs[a], infos[a]) for a in env.agents if not infos[a]["team"]["waiting"]}
        k += 1
        taken.append(actions)
        t0 = time.perf_counter()
        obs, _, _, _, infos = env.step(actions)
        wall = time.perf_counter() - t0
        found = [ev for a in actions for ev in infos[a]["evidence"]]
        step = {"wall_s": wall, "frames": sum(c.get("frames", 0) for a in actions for c in infos[a]["call_costs"]),
                "evidence": len(found)}
        if shadow is not None and shadow.agents:
            truth_infos = shadow.step(actions)[4]
            truth = [ev for a in actions for ev in truth_infos[a]["evidence"]]
            step["recall"], step["precision"] = recall_precision(truth, found, threshold)
        steps.append(step)
    team = next(iter(infos.values()))["team"]
    answer = (team.get("answer") or {}).get("answer")
    return {"score": (team.get("answer") or {}).get("score", 0.0), "answer": answer, "steps": steps,
            "actions": taken, "frames": team["totals"]["frames"], "family": env.task.family,
            "rounds": team["totals"]["rounds"], "latency_s": team["totals"]["latency_s"]}


def run_team_comparison(config: CompareConfig, team: TeamConfig, make_team: TeamFactory,
                        progress: Callable[[Iterable], Iterable] | None = None) -> dict[str, Any]:
    """Play every task with the team in both worlds; the result has the single-agent comparison's shape."""
    sim = _team_env("CVRSim-v0", config, team)
    real_args = dict(config.real_args)
    real_args["perceiver_options"] = {"cache": "private", **real_args.get("perceiver_options", {})}
    real = _team_env("CVRReal-v0", config, team, **real_args)
    shadow = _team_env("CVRSim-v0", config, team)
    try:
        agents = list(make_team(config.agent, team.num_agents, config.seed, sim.action_space(sim.possible_agents[0])))
        tasks = _spread_tasks(list(sim.envs[0].suite), config.episodes, config.seed)  # as the single comparison
        episodes = []
        for task in (progress(tasks) if progress else tasks):
            sim_ep = play_team_compared(sim, agents, task.id, config.seed)
            replay = sim_ep["actions"] if config.mode == "replay" else None
            real_ep = play_team_compared(real, agents, task.id, config.seed, rounds=replay, shadow=shadow,
                                         threshold=config.match_threshold)
            episodes.append({"task_id": task.id, "family": task.family, "sim": _strip(sim_ep),
                             "real": _strip(real_ep), "agree": jsonable(sim_ep["answer"]) == jsonable(real_ep["answer"])})
    finally:
        for env in (sim, real, shadow):
            env.close()
    return {"config": {**config.__dict__, "team": {**team.__dict__}}, "episodes": episodes,
            "summary": summarise(episodes)}


def _strip(ep: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in ep.items() if k != "actions"}, "actions": jsonable(ep["actions"])}
