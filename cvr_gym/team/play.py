"""Play teams of agents in :class:`~cvr_gym.team.env.CVRTeamEnv` and record their episodes.

The agents follow the single-agent protocol (``reset(obs, info, seed=...)``, ``act(obs, info)``);
an agent may return ``None`` to pass a round. Records have the shape of the single-agent
evaluation records (:mod:`cvr_gym.evaluation.records`), so ``summarise``, ``cvr-gym report``
and results files work on them unchanged: ``score`` is the team answer's score, ``costs`` are
the team's (frames and tokens summed over the agents, ``steps`` = rounds, ``latency_s`` = the
modelled latency with each round's calls run in parallel), and ``team`` holds the rest.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cvr_gym.evaluation.episodes import EpisodeSpec
from cvr_gym.evaluation.records import jsonable
from cvr_gym.evaluation.runner import EpisodeResult, EvalConfig
from cvr_gym.team.env import CVRTeamEnv

#: ``factory(spec, num_agents, seed, action_space) -> list of agents`` (one per seat).
TeamFactory = Callable[[str, int, int, Any], Sequence[Any]]


@dataclass
class TeamConfig:
    """How the team is formed (the rest of the run is an :class:`EvalConfig`).

    Arguments:
        num_agents: team size.
        topology: ``"full"``, ``"ring"``, ``"dropout"`` or ``"dropout:P"``.
        summariser: index of the agent whose answer counts for non-choice questions.
        env_args: extra keyword arguments for :class:`CVRTeamEnv` (``team_reward``, ``max_rounds``).
    """

    num_agents: int = 4
    topology: str = "full"
    summariser: int = 0
    env_args: dict[str, Any] = field(default_factory=dict)

    def label(self, agent_spec: str) -> str:
        """How the run is named in results: ``heuristic x4`` (plus the topology when not full)."""
        topo = "" if self.topology == "full" else f", {self.topology}"
        return f"{agent_spec} x{self.num_agents}{topo}"


def make_team_env(config: EvalConfig, team: TeamConfig) -> CVRTeamEnv:
    return CVRTeamEnv(config.env_id, team.num_agents, topology=team.topology, summariser=team.summariser,
                      **team.env_args, **config.env_kwargs())


def _reset_agent(agent: Any, obs: str, info: dict, seed: int | None) -> None:
    params = inspect.signature(agent.reset).parameters
    if seed is not None and ("seed" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())):
        agent.reset(obs, info, seed=seed)
    else:
        agent.reset(obs, info)


def play_team_episode(env: CVRTeamEnv, agents: Sequence[Any], *, seed: int | None = None,
                      options: dict[str, Any] | None = None, agent_seed: int | None = None,
                      on_round: Callable[[dict, dict, dict], None] | None = None) -> dict[str, dict]:
    """Reset ``env``, let seat ``i`` be played by ``agents[i]`` until the team is done; return the
    last round's infos (per agent). ``agent_seed`` re-seeds the seats (seat ``i`` with a seed
    derived from it and ``i``); ``on_round(actions, rewards, infos)`` sees every round."""
    if len(agents) != env.team_size:
        raise ValueError(f"the env has {env.team_size} seats, got {len(agents)} agents")
    obs, infos = env.reset(seed=seed, options=options)
    seeds = ([int(s) for s in np.random.SeedSequence(agent_seed).generate_state(len(agents))]
             if agent_seed is not None else [None] * len(agents))
    for agent, name, s in zip(agents, env.possible_agents, seeds):
        _reset_agent(agent, obs[name], infos[name], s)
    seat = dict(zip(env.possible_agents, agents))
    while env.agents:
        # waiting seats' actions are ignored by the env: do not ask them
        actions = {a: seat[a].act(obs[a], infos[a]) for a in env.agents if not infos[a]["team"]["waiting"]}
        obs, rewards, _, _, infos = env.step(actions)
        if on_round is not None:
            on_round(actions, rewards, infos)
    return infos


def team_record(spec: EpisodeSpec, label: str, agent_names: str, env_id: str, infos: dict[str, dict],
                rounds: list[dict], rewards: dict[str, float], started: float) -> dict[str, Any]:
    """The results-file record of a team episode (see the module docstring)."""
    first = next(iter(infos.values()))
    team = first["team"]
    totals = team["totals"]
    answer = team.get("answer") or {}
    costs = {k: jsonable(totals.get(k, 0)) for k in ("frames", "visual_tokens", "audio_seconds", "latency_s",
                                                       "tool_calls", "invalid_actions")}
    costs.update(steps=totals["rounds"], rounds=totals["rounds"], agent_steps=totals["steps"],
                 latency_sum_s=totals["latency_sum_s"], calls_by_tool=jsonable(totals["calls_by_tool"]),
                 wall_time_s=round(time.perf_counter() - started, 6))
    components: dict[str, float] = {}
    for info in infos.values():
        for k, v in info["episode_reward_components"].items():
            components[k] = components.get(k, 0.0) + v / len(infos)
    return {
        "episode": spec.index, "task_id": spec.task_id, "family": spec.family, "seed": spec.seed,
        "env_seed": spec.env_seed, "agent_seed": spec.agent_seed, "agent": label, "agent_name": agent_names,
        "env_id": env_id, "score": float(answer.get("score", 0.0)),
        "return": float(sum(rewards.values()) / max(1, len(rewards))),
        "reward_components": jsonable(components),
        "termination_reason": "answer" if answer.get("method") not in (None, "none") else "no_answer",
        "costs": costs, "actions": rounds, "tool_calls": [], "parse_errors": [], "observations": [],
        "team": jsonable({"num_agents": team["num_agents"], "topology": team["topology"], "answer": answer,
                          "answers": team.get("answers", {}), "agent_scores": team.get("agent_scores", {}),
                          "termination_reasons": team.get("termination_reasons", {}),
                          "agent_totals": {a: info["totals"] for a, info in infos.items()},
                          "returns": rewards}),
    }


def run_team_episodes(config: EvalConfig, team: TeamConfig, episodes: Sequence[EpisodeSpec],
                      make_team: TeamFactory) -> Iterator[EpisodeResult]:
    """Play ``episodes`` with teams from ``make_team(config.agent, n, seed, action_space)``, one
    record each (sequentially: a team episode already runs its seats side by side)."""
    env = make_team_env(config, team)
    label = team.label(config.agent)
    try:
        agents = list(make_team(config.agent, team.num_agents, config.seed, env.action_space(env.possible_agents[0])))
        names = ",".join(sorted({getattr(a, "name", "?") for a in agents}))
        for ep in episodes:
            started = time.perf_counter()
            rounds: list[dict] = []
            returns = dict.fromkeys(env.possible_agents, 0.0)

            def on_round(actions: dict, rewards: dict, infos: dict) -> None:
                rounds.append({a: jsonable(v) for a, v in actions.items()})
                for a, r in rewards.items():
                    returns[a] += r

            infos = play_team_episode(env, agents, seed=ep.env_seed, options={"task_id": ep.task_id},
                                      agent_seed=ep.agent_seed, on_round=on_round)
            record = team_record(ep, label, names, config.env_id, infos, rounds, returns, started)
            yield EpisodeResult(record, env.render())
    finally:
        env.close()
