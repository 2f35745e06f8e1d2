"""Reference teams: N copies of a reference agent for :mod:`cvr_gym.team`'s parallel env.

``make_team("heuristic", 4)`` gives four :class:`TeamHeuristicAgent` seats that divide the
work through the team memory; plan-following agents (``single-pass``, ``oracle``) become
:class:`TeamPlannedAgent` seats that split their plan; ``checkpoint:PATH`` seats read the memory
as their own evidence; any other spec gives N independent copies of that agent (each plays the
whole task and ignores the memory; the team votes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from baselines.checkpoint_agent import CheckpointAgent
from baselines.heuristic import HeuristicAgent
from baselines.planned import PlannedAgent, pack_targets
from cvr_gym.core.actions import ToolCall
from cvr_gym.core.costs import CostModel
from cvr_gym.core.parsing import MAX_CALLS_PER_ACTION
from cvr_gym.data.readers import read_answer
from cvr_gym.evaluation.registry import make_agent, parse_spec
from cvr_gym.team.memory import with_memory

_COSTS = CostModel()


class TeamHeuristicAgent(HeuristicAgent):
    """One seat of a heuristic team: plans the round for the whole team, does its share, and
    learns what the others did from the team memory.

    Every seat runs the :class:`~baselines.heuristic.HeuristicAgent` search on what the team
    knows: its own results plus the memory entries it received (evidence, and the frames the
    others' ``observe`` calls sampled, so windows they resolved are not looked at again). Each
    round it plans the team's calls (the skim's observe targets and listens; then up to
    ``max_targets`` zoom windows per seat instead of one agent's ``max_targets``) and books them
    all as done (with a lossy topology a seat moves on with the plan rather than wait for
    entries it never receives), splits them
    over the seats by modelled latency (longest first, each to the least loaded seat: the same
    split on every seat, as they plan from the same memory), makes its own calls and passes
    (``None``) when its share is empty. When the team plan is empty every seat answers with
    the evidence reader, so the seats vote alike. The frame cap (``frames_per_video`` per
    video) is the team's, as for one heuristic agent: the team spends no more frames.

    Arguments: as :class:`~baselines.heuristic.HeuristicAgent`.
    """

    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None:
        super().reset(obs, info, seed=seed)
        team = info.get("team") or {}
        self.seat = int(team.get("index", 0))
        self.seats = max(1, int(team.get("num_agents", 1)))
        self.max_windows = self.seats * self.base_limits.max_targets
        # Targets this seat planned (and booked, unrounded, as the single agent does) -> their
        # windows: the memory entries of these are not booked again.
        self._exact: dict[tuple, tuple[int, float, float]] = {}

    def act(self, obs: str, info: dict[str, Any]) -> Any:
        team = info.get("team") or {}
        self.evidence.extend(info.get("evidence") or ())
        for entry in team.get("memory") or ():
            self._absorb(entry)
        elapsed = max(int(info.get("step", 0)), int(team.get("round", 0)))
        steps_left = self.limits.max_steps - elapsed
        jobs: list[tuple[float, Any]] = []
        if not self.started and steps_left > 1:
            self.started = True
            jobs = self._team_plan(self._skim)
        elif steps_left > 1 and self.frames_left > 0:
            jobs = self._team_plan(lambda: [ToolCall.observe_many(t, focus=self.focus)
                                            for t in _chunks(self._zoom_targets(), self.limits.max_targets)])
        if not jobs:
            return ToolCall.answer(read_answer(self.view, self.evidence, self.reader))
        mine = _split(jobs, self.seats)[self.seat]
        if not mine:
            return None  # nothing for this seat this round: pass
        targets = [job for job in mine if isinstance(job, tuple)]
        calls = [ToolCall.observe_many(t, focus=self.focus) for t in _chunks(targets, self.limits.max_targets)]
        return calls + [job for job in mine if not isinstance(job, tuple)]

    # -- the team plan ----------------------------------------------------------------------------
    def _team_plan(self, plan: Callable[[], list[ToolCall]]) -> list[tuple[float, Any]]:
        """The round's calls for the whole team as jobs (an observe target or a listen call) with
        their modelled latency. Every planned target is booked as looked at, the other seats'
        too: when the topology drops their memory entries this seat still moves on with the
        plan (without their evidence) instead of waiting for work it never hears of."""
        return _jobs(plan())

    def _absorb(self, entry: dict[str, Any]) -> None:
        """Another seat's memory entry: its evidence, and the frames its observe call sampled."""
        self.evidence.extend(entry.get("evidence") or ())
        call = entry.get("call") or {}
        if call.get("name") == "observe":
            for t in call.get("arguments", {}).get("targets", ()):
                target = (int(t["video"]), float(t["start"]), float(t["end"]), int(t["num_frames"]))
                if target not in self._exact:  # not in this seat's plan: book what the other did
                    self._book(*target)

    def _take(self, video: int, start: float, end: float, frames: int) -> tuple[int, float, float, int]:
        target = super()._take(video, start, end, frames)
        self._exact[target] = (video, start, end)
        return target

    def _book(self, video: int, start: float, end: float, frames: int) -> None:
        frames = min(frames, max(0, self.frames_left))
        if frames <= 0 or not 1 <= video <= len(self.durations):
            return
        self.frames_left -= frames
        step = (end - start) / frames
        times = self.samples.setdefault(video, [])
        times.extend(start + (i + 0.5) * step for i in range(frames))
        times.sort()


def _jobs(calls: Sequence[ToolCall]) -> list[tuple[float, Any]]:
    """A plan's calls as jobs to share out, with their modelled latency: each observe target as
    ``(video, start, end, frames)``, each other call (listen) as itself."""
    jobs: list[tuple[float, Any]] = []
    for call in calls:
        if call.name == "observe":
            for t in call.arguments.targets:
                jobs.append((_COSTS.observe(t.num_frames).latency_s, (t.video, t.start, t.end, t.num_frames)))
        else:
            a = call.arguments
            jobs.append((_COSTS.listen(a.end - a.start).latency_s, call))
    return jobs


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _split(jobs: Sequence[tuple[float, Any]], seats: int) -> list[list[Any]]:
    """Longest job first, each to the least loaded seat (ties: lowest seat): deterministic."""
    load = [0.0] * seats
    shares: list[list[Any]] = [[] for _ in range(seats)]
    owner = [0] * len(jobs)
    for k in sorted(range(len(jobs)), key=lambda k: (-jobs[k][0], k)):
        seat = min(range(seats), key=lambda s: (load[s], s))
        load[seat] += jobs[k][0]
        owner[k] = seat
    for k, (_, job) in enumerate(jobs):  # each seat keeps the plan's order
        shares[owner[k]].append(job)
    return shares


class TeamPlannedAgent:
    """One seat of a team of plan-following agents (:class:`~baselines.planned.PlannedAgent`:
    ``single-pass``, ``oracle``): the team carries out one agent's plan together, then answers.

    Every seat builds the same plan from the same reset info (the wrapped agent's
    :meth:`~baselines.planned.PlannedAgent.plan`), splits its observe targets and listen calls over
    the seats by modelled latency (as :class:`TeamHeuristicAgent` does) and makes its share at
    once (several calls in one step, at most 16 per step); a seat with no share passes. Then
    every seat answers with the wrapped agent's reader on its own evidence plus what the memory
    brought, so with the full topology all seats give the single agent's answer, after one round
    of looking instead of one step per call. The team spends the single agent's frames.

    Arguments:
        agent: the plan-following agent whose plan and reader the seat uses.
    """

    def __init__(self, agent: PlannedAgent):
        self.agent = agent
        self.name = agent.name

    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None:
        self.agent.reset(obs, info, seed=seed)
        team = info.get("team") or {}
        seat, seats = int(team.get("index", 0)), max(1, int(team.get("num_agents", 1)))
        calls = [c for step in self.agent._queue for c in (step if isinstance(step, list) else [step])]
        mine = _split(_jobs(calls), seats)[seat]
        focus = next((c.arguments.focus for c in calls if c.name == "observe"), "")
        own = pack_targets([j for j in mine if isinstance(j, tuple)], self.agent.limits, focus=focus)
        own += [j for j in mine if not isinstance(j, tuple)]
        self._steps = [own[i:i + MAX_CALLS_PER_ACTION] for i in range(0, len(own), MAX_CALLS_PER_ACTION)]
        self._passed = False

    def act(self, obs: str, info: dict[str, Any]) -> Any:
        self.agent.evidence.extend(info.get("evidence") or ())
        for entry in (info.get("team") or {}).get("memory") or ():
            self.agent.evidence.extend(entry.get("evidence") or ())
        if self._steps and int(info.get("step", 0)) < self.agent.limits.max_steps - 1:
            calls = self._steps.pop(0)
            return calls[0] if len(calls) == 1 else calls
        if not self._passed and int((info.get("team") or {}).get("round", 0)) == 0:
            self._passed = True  # nothing to look at for this seat: wait one round for the others'
            return None
        return ToolCall.answer(read_answer(self.agent.view, self.agent.evidence, self.agent.reader))


class TeamCheckpointAgent(CheckpointAgent):
    """A trained policy (``checkpoint:PATH``) on a team seat: it reads the team memory as if it had
    made the others' calls itself (:func:`cvr_gym.team.memory.with_memory`), the view the team
    trainer (:mod:`cvr_gym.train.team`) gives its policy. Waiting seats' actions are ignored by
    the env, so it needs nothing else."""

    def act(self, obs: str, info: dict[str, Any]) -> Any:
        return super().act(obs, with_memory(info))


#: Agents with a team-aware version: spec name -> class built from the same spec argument.
TEAM_AWARE: dict[str, type] = {"heuristic": TeamHeuristicAgent, "checkpoint": TeamCheckpointAgent}


def make_team(spec: str, num_agents: int, seed: int = 0, action_space: Any | None = None) -> list[Any]:
    """``num_agents`` agents for a team: team-aware seats where one exists, else plain copies
    (seat ``i`` seeded with ``seed + i``)."""
    name, arg = parse_spec(spec)
    cls = TEAM_AWARE.get(name)
    if cls is not None:
        return [cls.from_spec(arg, seed + i, action_space) for i in range(num_agents)]
    agents = [make_agent(spec, seed + i, action_space) for i in range(num_agents)]
    return [TeamPlannedAgent(a) if isinstance(a, PlannedAgent) else a for a in agents]
