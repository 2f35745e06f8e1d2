"""A team of masters over one task: VideoChat-M1's setting as a PettingZoo parallel env."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from cvr_gym.core.rewards import COMPONENTS
from cvr_gym.envs.cvr_env import RESET_OPTIONS, CVREnv, _stable_int
from cvr_gym.team.memory import MemoryEntry, TeamMemory, memory_section
from cvr_gym.team.rewards import TEAM_COMPONENTS, TeamRewardConfig
from cvr_gym.team.topology import Topology
from cvr_gym.team.vote import VOTED_TYPES, TeamAnswer, team_answer

#: Cost totals summed over the agents (the rest of the team totals are rounds and latencies).
_SUMMED = ("steps", "tool_calls", "invalid_actions", "frames", "visual_tokens", "audio_seconds")
#: Every agent's reward components: its own env's rubric, then the team terms.
ALL_COMPONENTS = COMPONENTS + TEAM_COMPONENTS
#: Env keyword arguments that pick the tasks: only the first agent's env reads them, the others
#: share its suite (and its perceiver, so models and caches are loaded once).
_SUITE_ARGS = ("suite", "split", "families", "tasks", "data_root", "perceiver")


class CVRTeamEnv(ParallelEnv):
    """A team of ``N`` masters answering one question about several videos, with a shared memory.

    ## Description

    VideoChat-M1's setting on this package's tasks. Every agent is a master of the single-agent
    env (``CVRSim-v0`` or ``CVRReal-v0``): each has its own :class:`~cvr_gym.envs.cvr_env.CVREnv`
    over the same task (same parsing, budgets, costs, scoring and observation text) and all share
    one perceiver, so a sim team and a real team differ only there, as single agents do. The
    agents act at once in *rounds*; after each round every tool call and what it returned is
    written to the team memory (:mod:`cvr_gym.team.memory`), and each agent receives the other
    agents' entries that the round's topology lets through (full, ring, or random dropout per
    round). An agent that has answered, or hit its steps or frame budget, waits until the
    whole team is done; then the team answer is the majority vote of the answers (choice
    questions) or the summariser's answer (other types), scored by the task's scorer.

    ## Action Space

    Per agent, the single env's :class:`~cvr_gym.core.spaces.ToolCallSpace` (anything its
    ``step`` accepts: ToolCalls, dicts, text). An agent left out of the actions dict, or given
    ``None``, passes the round: nothing is spent and its step count does not move. Actions of
    agents that are waiting are ignored.

    ## Observation Space

    Per agent, the single env's text (:class:`~cvr_gym.core.spaces.UnicodeText`): the reset
    observation is the single env's prompt plus a ``Team:`` paragraph (the agent's name, the
    team size, the topology, how the team answers); each round's observation is the agent's own
    step result followed by a ``Team memory`` section with the other agents' calls and results
    it received, formatted like its own (``[agent_2] observe video 1 [...]``).

    ## Rewards

    Named components per agent (``info[agent]["reward_components"]``): the agent's own rubric
    from its env (``outcome``: its own answer's score; ``format``; ``cost``; ``grounding``),
    plus ``team_outcome`` (the team answer's score, paid to every agent in the last round) and
    ``collaboration`` (per tool call that added evidence new to the memory, minus a penalty per
    call past the call limit); see :class:`~cvr_gym.team.rewards.TeamRewardConfig`.

    ## Starting State

    As the single env: ``reset(seed, options)`` with ``task_id``, ``task_index`` or
    ``group_id`` (every agent gets the same task; under a group id each agent's perception noise
    and the topology draws are pinned, for GRPO groups). Other option keys are ignored with a
    warning. A seed reproduces the episode: task, perception noise and topology draws.

    ## Episode End

    When every agent has answered or hit its limits (or after ``max_rounds`` rounds), all agents
    end in the same round: ``terminated`` for an agent that answered, ``truncated`` otherwise.

    ## Info

    Per agent, the single env's info for its step (tool calls, costs, totals, evidence, ...)
    plus ``team``: the agent's name and index, ``round``, ``waiting``, ``received_from`` and
    ``memory`` (the entries received this round as data), ``calls``, and ``totals`` (the team's
    costs: summed frames, tokens, audio, tool calls and steps; ``rounds``; ``latency_s``, the
    modelled latency when the agents' calls of a round run in parallel, and ``latency_sum_s``);
    in the last round also ``answer`` (the team answer, its score, the votes), ``answers`` and
    ``agent_scores``.

    ## Arguments

    - ``env_id``: ``"CVRSim-v0"`` or ``"CVRReal-v0"`` (any id whose env is a ``CVREnv``).
    - ``num_agents``: team size.
    - ``topology``: ``"full"``, ``"ring"``, ``"dropout"`` (``"dropout:0.3"``) or a
      :class:`~cvr_gym.team.topology.Topology`.
    - ``summariser``: index of the agent whose answer the team gives for non-choice questions.
    - ``team_reward``: :class:`~cvr_gym.team.rewards.TeamRewardConfig` or a dict of weights.
    - ``max_rounds``: round limit (default: the agents' ``max_steps``).
    - every other keyword goes to ``gym.make(env_id, ...)`` for each agent's env (``suite``,
      ``split``, ``max_steps``, ``frame_budget``, ``reward``, ``render_mode``, ...).
    """

    metadata = {"name": "cvr_team_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, env_id: str = "CVRSim-v0", num_agents: int = 4, topology: Topology | str | dict = "full",
                 summariser: int = 0, team_reward: TeamRewardConfig | dict | None = None,
                 max_rounds: int | None = None, **env_kwargs: Any):
        import cvr_gym  # noqa: F401  (registers the envs)

        if int(num_agents) < 1:
            raise ValueError(f"num_agents must be at least 1, got {num_agents}")
        n = int(num_agents)
        if not 0 <= int(summariser) < n:
            raise ValueError(f"summariser must be an agent index in 0..{n - 1}, got {summariser}")
        self.topology = Topology.from_any(topology)
        self.team_reward = TeamRewardConfig.from_any(team_reward)
        self.render_mode = env_kwargs.get("render_mode")
        first = gym.make(env_id, disable_env_checker=True, **env_kwargs).unwrapped
        if not isinstance(first, CVREnv):
            first.close()
            raise TypeError(f"{env_id} is not a CVREnv; a team needs the cross-video env")
        shared = {"suite": first.suite, "perceiver": first.perceiver}
        rest = {k: v for k, v in env_kwargs.items() if k not in _SUITE_ARGS}
        self.envs: list[CVREnv] = [first] + [gym.make(env_id, disable_env_checker=True, **rest, **shared).unwrapped
                                             for _ in range(n - 1)]
        self.env_id = env_id
        self.team_size = n
        self.possible_agents = [f"agent_{i}" for i in range(n)]
        self.agents: list[str] = []
        self.summariser = self.possible_agents[int(summariser)]
        self.max_rounds = int(max_rounds) if max_rounds is not None else first.max_steps
        if self.max_rounds < 1:
            raise ValueError("max_rounds must be positive")
        self.observation_spaces = {a: e.observation_space for a, e in zip(self.possible_agents, self.envs)}
        self.action_spaces = {a: e.action_space for a, e in zip(self.possible_agents, self.envs)}
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self._np_random: np.random.Generator | None = None
        self.memory = TeamMemory()

    # -- PettingZoo API -----------------------------------------------------------------------
    def observation_space(self, agent: str) -> gym.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gym.Space:
        return self.action_spaces[agent]

    @property
    def task(self) -> Any:
        """The episode's task (the same for every agent)."""
        return self.envs[0].task

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict[str, str], dict[str, dict]]:
        options = dict(options or {}) if isinstance(options, Mapping) else {}
        unknown = sorted(map(str, set(options) - set(RESET_OPTIONS)))
        if unknown:
            warnings.warn(f"reset options {unknown} ignored; known: {list(RESET_OPTIONS)}", stacklevel=2)
        env_options = {k: options[k] for k in RESET_OPTIONS if k in options}
        n = self.team_size
        if seed is not None:
            self._np_random, _ = seeding.np_random(seed)
            agent_seeds: list[int | None] = [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]
        else:
            if self._np_random is None:
                self._np_random, _ = seeding.np_random()
            agent_seeds = [None] * n
        group = env_options.get("group_id")
        first_obs, first_info = self.envs[0].reset(seed=agent_seeds[0], options=env_options)
        task = self.envs[0].task
        outputs = [(first_obs, first_info)]
        for i in range(1, n):
            opts: dict[str, Any] = {"task_id": task.id}
            if group is not None:
                opts["group_id"] = (group, i)
            outputs.append(self.envs[i].reset(seed=agent_seeds[i], options=opts))
        self._links_rng = (np.random.default_rng(_stable_int(("topology", group))) if group is not None
                           else np.random.default_rng(self._np_random.integers(2**63)))
        self.agents = list(self.possible_agents)
        self.memory = TeamMemory()
        self._round = 0
        self._finished: dict[str, str | None] = {}  # agent -> its env's termination reason
        self._answers: dict[str, Any] = {}
        self._scores: dict[str, float] = {}
        self._calls = dict.fromkeys(self.agents, 0)
        self._totals = [dict(info["totals"]) for _, info in outputs]
        self._latency_s = 0.0
        self._episode_components = {a: dict.fromkeys(ALL_COMPONENTS, 0.0) for a in self.agents}
        self._transcript: list[str] = []
        self._result: TeamAnswer | None = None
        intro = self._intro(task)
        observations, infos = {}, {}
        for agent, (obs, info) in zip(self.agents, outputs):
            observations[agent] = f"{obs}\n\n{intro(agent)}"
            info["team"] = self._team_info(agent, [], [])
            infos[agent] = info
        return observations, infos

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        self._round += 1
        live = list(self.agents)
        waiting = {a for a in live if a in self._finished}
        outputs: dict[str, tuple] = {}
        results: dict[str, list] = {}
        round_latency = 0.0
        for agent in live:
            action = actions.get(agent) if isinstance(actions, Mapping) else None
            if agent in waiting or action is None:
                continue
            env = self.envs[self._index[agent]]
            obs, _, terminated, truncated, info = env.step(action)
            outputs[agent] = (obs, info)
            results[agent] = env.last_results
            self._totals[self._index[agent]] = dict(info["totals"])
            round_latency = max(round_latency, sum(c["latency_s"] for c in info["call_costs"]))
            if terminated or truncated:
                self._finished[agent] = info["termination_reason"]
                if info["termination_reason"] == "answer":
                    self._answers[agent] = next(r.call.arguments.answer for r in reversed(env.last_results)
                                                if r.call.name == "answer")
                    self._scores[agent] = float(info["score"])
        self._latency_s += round_latency

        written = self.memory.write(self._round, results)
        links = self.topology.links(self.team_size, self._links_rng)
        done = all(a in self._finished for a in live) or self._round >= self.max_rounds
        if done:
            self._result = team_answer(self.task, self._answers, self.possible_agents, self.summariser,
                                       self.envs[0].scoring)

        per_agent: dict[str, tuple[str, dict, dict]] = {}
        for agent in live:
            i = self._index[agent]
            components = dict.fromkeys(ALL_COMPONENTS, 0.0)
            tool_entries = [e for e in written.get(agent, ()) if e.call.name != "answer"]
            if agent in outputs:
                obs, info = outputs[agent]
                components.update(info["reward_components"])
                components["collaboration"] = self.team_reward.collaboration_term(
                    sum(1 for e in tool_entries if e.new_items), self._calls[agent], len(tool_entries))
                self._calls[agent] += len(tool_entries)
            elif agent in waiting:
                obs, info = f"You are done ({self._finished[agent]}); waiting for the other agents.", self._idle_info(i)
            else:
                obs, info = "No call this round (passed).", self._idle_info(i)
            if done:
                components["team_outcome"] = self.team_reward.team_outcome * self._result.score
            per_agent[agent] = (obs, info, components)
        if self.team_reward.cost_sharing == "team":  # every agent pays the team's spend, as it gets its outcome
            shared = sum(c["cost"] for _, _, c in per_agent.values())
            for _, _, c in per_agent.values():
                c["cost"] = shared

        totals = self.team_totals()
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for agent, (obs, info, components) in per_agent.items():
            i = self._index[agent]
            received = [] if agent in waiting else [
                e for other in live if links[i, self._index[other]] for e in written.get(other, ())]
            for k, v in components.items():
                self._episode_components[agent][k] += v
            info = dict(info)
            info["reward_components"] = components
            info["episode_reward_components"] = dict(self._episode_components[agent])
            info["team"] = self._team_info(agent, received, [e.agent for e in received], totals)
            text = f"{obs}\n{memory_section(received)}" if agent not in waiting else obs
            if done:
                text += f"\n{self._result_line()}"
                info["team"].update(self._final_info())
            observations[agent] = text
            rewards[agent] = float(sum(components.values()))
            answered = self._finished.get(agent) in ("answer", "invalid_action")
            terminations[agent] = done and answered
            truncations[agent] = done and not answered
            infos[agent] = info
            if done and agent not in self._finished:
                self._finished[agent] = "max_rounds"
        if self.render_mode == "ansi":
            self._transcript.append(self._round_text(written))
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        """``"ansi"``: the rounds so far, every agent's calls and results as the memory holds them."""
        if self.render_mode != "ansi":
            return None
        parts = list(self._transcript)
        if self._result is not None:
            parts.append(self._result_line())
        return "\n\n".join(parts)

    def close(self) -> None:
        # The perceiver is shared: closing the first env closes it once.
        if self.envs:
            self.envs[0].close()

    # -- helpers ------------------------------------------------------------------------------
    def _intro(self, task: Any):
        n, topo = self.team_size, self.topology.kind
        reach = {"full": "every other agent's", "ring": "your two neighbours'",
                 "dropout": "the other agents' (each link may drop out in a round)"}[topo]
        how = (f"the team answer is the majority vote of the agents' answers" if task.answer_type in VOTED_TYPES
               else f"the team answer is {self.summariser}'s answer")

        def text(agent: str) -> str:
            return (f"Team: you are {agent}, one of {n} agents answering this question together. After every "
                    f"round you read {reach} calls and results under \"Team memory\"; split the work. "
                    f"When every agent has answered, {how}.")
        return text

    def _idle_info(self, i: int) -> dict[str, Any]:
        env = self.envs[i]
        agent = self.possible_agents[i]
        return {"task_id": env.task.id, "family": env.task.family, "step": self._totals[i]["steps"],
                "tool_calls": [], "parse_error": None, "call_costs": [], "totals": dict(self._totals[i]),
                "termination_reason": self._finished.get(agent), "score": self._scores.get(agent),
                "evidence": [], "action_context": env._context()}

    def team_totals(self) -> dict[str, Any]:
        """The team's costs so far: agents' totals summed, rounds, parallel and summed latency."""
        totals: dict[str, Any] = {k: sum(t[k] for t in self._totals) for k in _SUMMED}
        totals["calls_by_tool"] = {tool: sum(t["calls_by_tool"].get(tool, 0) for t in self._totals)
                                   for tool in ("observe", "listen", "answer")}
        totals["rounds"] = self._round
        totals["latency_s"] = self._latency_s
        totals["latency_sum_s"] = sum(t["latency_s"] for t in self._totals)
        return totals

    def _team_info(self, agent: str, received: list[MemoryEntry], senders: list[str],
                   totals: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"agent": agent, "index": self._index[agent], "num_agents": self.team_size,
                "summariser": self.summariser, "topology": self.topology.kind, "round": self._round,
                "waiting": agent in self._finished, "received_from": sorted(set(senders), key=self._index.get),
                "memory": [e.to_dict() for e in received], "calls": self._calls[agent],
                "totals": ({**totals, "calls_by_tool": dict(totals["calls_by_tool"])} if totals is not None
                           else self.team_totals())}

    def _final_info(self) -> dict[str, Any]:
        return {"answer": self._result.to_dict(), "answers": {a: _plain(v) for a, v in self._answers.items()},
                "agent_scores": dict(self._scores),
                "termination_reasons": {a: self._finished.get(a, "max_rounds") for a in self.possible_agents}}

    def _result_line(self) -> str:
        r = self._result
        if r.method == "none":
            return "Team answer: none (no agent answered)."
        votes = f" ({r.votes.get(_vote_key(r), 0)} of {self.team_size} votes)" if r.method == "vote" else ""
        return f"Team answer: {_plain(r.answer)}{votes}, from {r.by}."

    def _round_text(self, written: dict[str, list[MemoryEntry]]) -> str:
        lines = [f"=== round {self._round} ==="]
        lines += [e.text for entries in written.values() for e in entries]
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _vote_key(result: TeamAnswer) -> str:
    # The vote count of the chosen answer: the key its coerced form was counted under.
    best = max(result.votes.values()) if result.votes else 0
    return next((k for k, v in result.votes.items() if v == best), "")


def parallel_env(env_id: str = "CVRSim-v0", num_agents: int = 4, **kwargs: Any) -> CVRTeamEnv:
    """A :class:`CVRTeamEnv`: ``num_agents`` masters on ``env_id`` tasks with a shared memory."""
    return CVRTeamEnv(env_id, num_agents, **kwargs)
