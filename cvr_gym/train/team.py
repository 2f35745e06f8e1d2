"""GRPO for teams: one shared policy plays every seat of :class:`~cvr_gym.team.env.CVRTeamEnv`.

As in VideoChat-M1, the team is trained jointly with one policy: every seat encodes its own
observation (its own results plus the team memory it received, through
:func:`~cvr_gym.team.memory.with_memory`) with the single-agent wrappers' encoder and catalogue,
so a team-trained policy also runs as a single agent (``checkpoint:PATH``) and vice versa.
A group holds ``group_size`` team episodes of one task; each seat's trajectory is one sample
whose return is the seat's own (team outcome, own outcome, format, cost, collaboration), and its
advantage is that return minus the mean over all seats' trajectories of the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from cvr_gym.team.env import CVRTeamEnv
from cvr_gym.team.memory import with_memory
from cvr_gym.train.config import GRPOConfig
from cvr_gym.train.grpo import GRPOTrainer, read_checkpoint
from cvr_gym.train.policy import greedy_actions, obs_to_tensors, policy_from_config
from cvr_gym.train.rollout import Episode
from cvr_gym.wrappers.search import catalogue_from_config, encoder_from_config


@dataclass
class TeamGRPOConfig(GRPOConfig):
    """:class:`~cvr_gym.train.config.GRPOConfig` plus the team.

    Team:
        num_agents: seats per team episode (all played by the one policy).
        topology: ``"full"``, ``"ring"``, ``"dropout"`` or ``"dropout:P"`` (VideoChat-M1 trains
            with agent dropout).
        team_reward: :class:`~cvr_gym.team.rewards.TeamRewardConfig` fields (``team_outcome``,
            ``collaboration``, ``call_limit``, ``over_limit``, ``cost_sharing``). The default
            shares the cost (``cost_sharing="team"``): with each seat paying only its own frames,
            a seat that leaves the looking to the others has the higher return in every episode,
            and one shared policy learns to look at nothing.
        eval_greedy: evaluate (and select checkpoints) with arg-max actions. Off by default: the
            seats of one policy see the same first observation, so greedy seats all make the same
            calls; sampled seats (seeded, reproducible) play the policy's mixed strategy, which is
            how a shared policy divides the work.
    """

    num_agents: int = 4
    topology: str = "full"
    team_reward: dict[str, Any] = field(default_factory=lambda: {"cost_sharing": "team"})
    log_dir: str = "runs/grpo-team"
    eval_greedy: bool = False

    def team_env(self, split: str | None) -> CVRTeamEnv:
        return CVRTeamEnv(self.env_id, self.num_agents, topology=self.topology, team_reward=self.team_reward or None,
                          **self.env_make_kwargs(split))


@dataclass
class TeamEpisode:
    """One team episode: each seat's trajectory and the team's result."""

    seats: list[Episode]
    score: float = 0.0
    rounds: int = 0
    frames: int = 0
    latency_s: float = 0.0


def play_team(env: CVRTeamEnv, policy: torch.nn.Module, catalogue: Any, encoders: Sequence[Any],
              options: dict[str, Any], generator: torch.Generator | None = None,
              greedy: bool = False) -> TeamEpisode:
    """One team episode with ``policy`` on every seat (seats that act in a round share one batch).

    ``catalogue`` and ``encoders`` (one per seat, reset here) are the policy's wrappers' pieces
    (:func:`~cvr_gym.wrappers.search.catalogue_from_config`, ``encoder_from_config``)."""
    obs, infos = env.reset(options=options)
    seat = {a: i for i, a in enumerate(env.possible_agents)}
    vecs = {a: encoders[seat[a]].reset(obs[a], infos[a]) for a in env.possible_agents}
    episodes = {a: Episode(dict(options)) for a in env.possible_agents}
    was_training = policy.training
    policy.eval()
    try:
        while env.agents:
            acting = [a for a in env.agents if not infos[a]["team"]["waiting"]]
            masks = np.stack([catalogue.action_mask(encoders[seat[a]].state) for a in acting])
            batch = {k: np.stack([vecs[a][k] for a in acting]) for k in vecs[acting[0]]}
            with torch.no_grad():
                logp_all = torch.log_softmax(policy(obs_to_tensors(batch), torch.as_tensor(masks)), dim=-1)
                if greedy:
                    chosen = greedy_actions(policy, logp_all)
                else:
                    chosen = torch.multinomial(logp_all.exp(), 1, generator=generator).squeeze(1)
                logps = logp_all.gather(1, chosen[:, None]).squeeze(1)
            actions, index = {}, {}
            for j, a in enumerate(acting):
                ep, i = episodes[a], int(chosen[j])
                for k, v in vecs[a].items():
                    ep.obs.setdefault(k, []).append(np.asarray(v, dtype=np.float32))
                ep.masks.append(masks[j])
                ep.actions.append(i)
                ep.logps.append(float(logps[j]))
                index[a] = i
                actions[a] = catalogue.to_tool_call(i, encoders[seat[a]].state)
            obs, rewards, _, _, infos = env.step(actions)
            for a, r in rewards.items():
                episodes[a].ret += float(r)
            for a in acting:
                vecs[a] = encoders[seat[a]].step(obs[a], with_memory(infos[a]), index[a])
    finally:
        policy.train(was_training)
    team = next(iter(infos.values()))["team"]
    for a, ep in episodes.items():
        ep.score = float(team["answer"]["score"])
        ep.frames = int(infos[a]["totals"]["frames"])
        ep.steps = int(infos[a]["totals"]["steps"])
    totals = team["totals"]
    return TeamEpisode([episodes[a] for a in env.possible_agents], float(team["answer"]["score"]),
                       int(totals["rounds"]), int(totals["frames"]), float(totals["latency_s"]))


def summarise_teams(teams: Sequence[TeamEpisode]) -> dict[str, float]:
    """Means over team episodes: team score, per-seat return, rounds, team frames, modelled latency."""
    if not teams:
        return {"episodes": 0}
    return {"episodes": len(teams), "score": float(np.mean([t.score for t in teams])),
            "return": float(np.mean([e.ret for t in teams for e in t.seats])),
            "frames": float(np.mean([t.frames for t in teams])), "steps": float(np.mean([t.rounds for t in teams])),
            "latency_s": float(np.mean([t.latency_s for t in teams]))}


class TeamGRPOTrainer(GRPOTrainer):
    """:class:`~cvr_gym.train.grpo.GRPOTrainer` whose rollouts are team episodes.

    ## Description

    One shared policy plays all ``num_agents`` seats of ``CVRTeamEnv``. An update draws
    ``tasks_per_update`` tasks and plays ``group_size`` team episodes of each from the same
    ``reset(options={"group_id", "task_index"})`` (same task, perception noise and topology
    draws); every seat's trajectory is one sample with its own return, and advantages are taken
    within the group (over its ``group_size * num_agents`` trajectories). The optimiser step,
    logging and checkpoints are the single-agent trainer's; checkpoints load as
    ``checkpoint:PATH`` agents, alone or in teams. Evaluations report the team's score, rounds
    (``steps``), frames and modelled latency.

    ## Arguments

    As :class:`~cvr_gym.train.grpo.GRPOTrainer`, with a :class:`TeamGRPOConfig`.
    """

    def __init__(self, config: TeamGRPOConfig, policy: torch.nn.Module | None = None,
                 policy_kwargs: dict[str, Any] | None = None):
        super().__init__(config, policy=policy, policy_kwargs=policy_kwargs)
        self.envs.close()  # the single-agent rollout slots are not used
        self.catalogue = catalogue_from_config(self.catalogue_config)
        self.encoders = [encoder_from_config(self.encoder_config) for _ in range(config.num_agents)]
        self._team_envs: dict[str | None, CVRTeamEnv] = {}
        self._rollout_teams: list[TeamEpisode] = []

    def team_env(self, split: str | None) -> CVRTeamEnv:
        if split not in self._team_envs:
            self._team_envs[split] = self.config.team_env(split)
        return self._team_envs[split]

    def collect(self, groups: Sequence[Sequence[dict]]) -> list[list[Episode]]:
        env = self.team_env(self.config.split)
        out, self._rollout_teams = [], []
        for group in groups:
            teams = [play_team(env, self.policy, self.catalogue, self.encoders, o, generator=self.generator)
                     for o in group]
            self._rollout_teams.extend(teams)
            out.append([e for t in teams for e in t.seats])
        return out

    def update(self) -> dict[str, Any]:
        record = super().update()
        # the single-agent rollout means are per seat; add the team's
        record.update({f"rollout/team_{k}": v for k, v in summarise_teams(self._rollout_teams).items()})
        return record

    def evaluate(self, split: str | None = None, episodes: int | None = None, greedy: bool | None = None,
                 kind: str = "eval") -> dict[str, Any]:
        cfg = self.config
        greedy = cfg.eval_greedy if greedy is None else greedy
        split = split if split is not None else cfg.eval_split
        env = self.team_env(split)
        n_tasks = len(env.envs[0].suite)
        n = episodes if episodes is not None else (cfg.eval_episodes or n_tasks)
        gen = torch.Generator().manual_seed(int(cfg.seed) + 10_007)  # only used when not greedy: reproducible
        teams = [play_team(env, self.policy, self.catalogue, self.encoders,
                           {"task_index": i % n_tasks, "group_id": f"eval-{split}-{i}"}, generator=gen, greedy=greedy)
                 for i in range(n)]
        return {"kind": kind, "update": self.update_count, "split": split, **summarise_teams(teams)}

    @classmethod
    def from_checkpoint(cls, path: Any, **overrides: Any) -> "TeamGRPOTrainer":
        state = read_checkpoint(path)
        config = TeamGRPOConfig.from_dict({**state["config"], **overrides})
        trainer = cls(config, policy=policy_from_config(state["policy"]["config"]))
        trainer.load_state_dict(state)
        return trainer

    def close(self) -> None:
        super().close()
        for env in self._team_envs.values():
            env.close()


__all__ = ["TeamEpisode", "TeamGRPOConfig", "TeamGRPOTrainer", "play_team", "summarise_teams"]
