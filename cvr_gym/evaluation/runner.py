"""Run evaluation episodes: sequentially in one env, or K at a time in a Gymnasium vector env.

Every episode resets with its own seeds and task (see :mod:`~cvr_gym.evaluation.episodes`) and
re-seeds its agent, so results do not depend on scheduling: a vector run equals a sequential run
with the same seed, record for record (wall times aside).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from cvr_gym.evaluation.agents import EpisodeRun, Step, timed_step
from cvr_gym.evaluation.episodes import EpisodeSpec, plan_episodes
from cvr_gym.evaluation.records import EpisodeRecorder
from cvr_gym.evaluation.registry import make_agent, needs_privileged_info
from cvr_gym.envs.episode_slot import EpisodeSlot, unpack_infos


@dataclass
class EvalConfig:
    """What to evaluate and how.

    Arguments:
        env_id: a registered env id (``"CVRSim-v0"``, ``"CVRReal-v0"``).
        agent: an agent spec for :func:`~cvr_gym.evaluation.registry.make_agent` (``"single-pass:32"``,
            ``"mymodule:make_agent"``).
        suite: a bundled suite name or a JSONL path.
        split: ``"train"``, ``"val"``, ``"test"`` or ``None`` (all).
        episodes: how many episodes (``None``: one per task of the split).
        seed: the run's seed (task order, env and agent seeds).
        num_envs: episodes run at a time; above 1 a Gymnasium vector env is used.
        vector_mode: ``"async"`` (subprocesses), ``"sync"`` (one process) or ``"ray"`` (Ray actors,
            see :mod:`cvr_gym.envs.ray_vector`).
        ray_address: the Ray cluster for ``vector_mode="ray"`` (``None`` or ``"local"``: a local Ray).
        env_args: extra keyword arguments for ``gym.make``.
        render_mode: ``"ansi"`` to collect each episode's transcript.
        keep_observations: store observation texts in the records.
    """

    env_id: str = "CVRSim-v0"
    agent: str = "single-pass"
    suite: str = "default"
    split: str | None = "test"
    episodes: int | None = None
    seed: int = 0
    num_envs: int = 1
    vector_mode: Literal["async", "sync", "ray"] = "async"
    ray_address: str | None = None
    env_args: dict[str, Any] = field(default_factory=dict)
    render_mode: str | None = None
    keep_observations: bool = True

    def record_context(self) -> dict[str, Any]:
        """Fields every record of the run carries: where its tasks come from."""
        return {"suite": self.suite, "split": self.split}

    def env_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``gym.make`` (privileged info switched on for agents that need it)."""
        kwargs: dict[str, Any] = {"suite": self.suite, "split": self.split}
        if needs_privileged_info(self.agent):
            kwargs["privileged_info"] = True
        if self.render_mode:
            kwargs["render_mode"] = self.render_mode
        kwargs.update(self.env_args)
        return kwargs


@dataclass
class EpisodeResult:
    """A finished episode: its record and, when rendering, its transcript."""

    record: dict[str, Any]
    transcript: str | None = None


def make_env(config: EvalConfig) -> gym.Env:
    import cvr_gym  # noqa: F401  (registers the envs)

    return gym.make(config.env_id, **config.env_kwargs())


def suite_tasks(config: EvalConfig) -> list[tuple[str, str]]:
    """``(task_id, family)`` of every task the env will offer, in suite order."""
    from cvr_gym.core.suites import load_suite

    suite = load_suite(config.suite, split=config.split, families=config.env_args.get("families"))
    return [(t.id, t.family) for t in suite]


def plan(config: EvalConfig) -> list[EpisodeSpec]:
    """The run's episodes (all of them, including any already done)."""
    tasks = suite_tasks(config)
    return plan_episodes(tasks, len(tasks) if config.episodes is None else config.episodes, config.seed)


def run_episodes(config: EvalConfig, episodes: Sequence[EpisodeSpec]) -> Iterator[EpisodeResult]:
    """Play ``episodes`` and yield each result as it finishes (in vector runs, not in order)."""
    if not episodes:
        return
    if config.num_envs <= 1 and config.vector_mode != "ray":
        yield from _run_sequential(config, episodes)
    else:
        yield from _run_vector(config, episodes)


# -- one episode at a time ------------------------------------------------------------------------

def _start(config: EvalConfig, agent: Any, ep: EpisodeSpec, obs: Any, info: dict) -> tuple[EpisodeRun, EpisodeRecorder, Any]:
    """Begin ``ep`` from its reset output: its recorder, its run and the agent's first action."""
    rec = EpisodeRecorder(ep, config.agent, agent.name, config.env_id, obs, config.keep_observations,
                          context={**config.record_context(), "limits": info.get("limits")})
    run = EpisodeRun(agent, seed=ep.agent_seed, on_step=rec.step, catch_errors=True)
    return run, rec, run.begin(obs, info)


def _result(run: EpisodeRun, rec: EpisodeRecorder) -> EpisodeResult:
    rec.error = run.error
    record = rec.finish(run.info, reason="agent_error" if run.error else None)
    stats = getattr(run.agent, "episode_stats", None)  # optional: the agent's own counters
    if callable(stats):
        record["agent_stats"] = stats()
    return EpisodeResult(record, rec.transcript)


def _run_sequential(config: EvalConfig, episodes: Iterable[EpisodeSpec]) -> Iterator[EpisodeResult]:
    env = make_env(config)
    try:
        agent = make_agent(config.agent, config.seed, env.action_space)
        for ep in episodes:
            obs, info = env.reset(seed=ep.env_seed, options={"task_id": ep.task_id})
            run, rec, action = _start(config, agent, ep, obs, info)
            while not run.done:
                action = run.advance(timed_step(env, action))
            yield _result(run, rec)
    finally:
        env.close()


# -- vector ---------------------------------------------------------------------------------------

def _make_slot(config: EvalConfig, slot: int) -> gym.Env:
    return EpisodeSlot(make_env(config), slot)


def _idle_action() -> Any:
    from cvr_gym.core.actions import ToolCall

    return ToolCall.answer("A")


def _run_vector(config: EvalConfig, episodes: Sequence[EpisodeSpec]) -> Iterator[EpisodeResult]:
    from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

    k = min(config.num_envs, len(episodes))
    fns = [partial(_make_slot, config, i) for i in range(k)]
    if config.vector_mode == "sync":
        venv = SyncVectorEnv(fns, autoreset_mode=AutoresetMode.DISABLED)
    elif config.vector_mode == "ray":
        from cvr_gym.envs.ray_vector import RayVectorEnv  # a leaf module: imports no cvr_gym code

        venv = RayVectorEnv(fns, address=config.ray_address, autoreset_mode=AutoresetMode.DISABLED)
    else:
        # Observations are Unicode text: no shared memory (it only holds the space's charset).
        venv = AsyncVectorEnv(fns, shared_memory=False, autoreset_mode=AutoresetMode.DISABLED)
    queue = iter(episodes)
    # Per slot: the episode's run and recorder, and the action it plays next (None: idle slot).
    slots: list[tuple[EpisodeRun, EpisodeRecorder] | None] = [None] * k
    actions: list[Any] = [None] * k
    try:
        agents = [make_agent(config.agent, config.seed + i, venv.single_action_space) for i in range(k)]

        def assign(free: list[int], first: bool) -> list[int]:
            """Reset ``free`` slots onto their next episodes; return those whose agent failed at once."""
            per_env: list[dict | None] = [None] * k
            seeds: list[int | None] = [None] * k
            planned: dict[int, EpisodeSpec] = {}
            for i in free:
                ep = next(queue, None)
                if ep is not None:
                    planned[i] = ep
                    per_env[i] = {"task_id": ep.task_id}
                    seeds[i] = ep.env_seed
            options: dict[str, Any] = {"per_env": per_env}
            if not first:
                options["reset_mask"] = np.array([i in free for i in range(k)], dtype=np.bool_)
            obs, info = venv.reset(seed=seeds, options=options)
            unpacked = unpack_infos(info, k)
            failed = []
            for i in free:
                slots[i] = None
                if i in planned:
                    run, rec, actions[i] = _start(config, agents[i], planned[i], obs[i], unpacked[i])
                    slots[i] = (run, rec)
                    if run.done:
                        failed.append(i)
            return failed

        pending = assign(list(range(k)), first=True)
        while True:
            while pending:  # episodes whose agent failed before stepping
                for i in pending:
                    yield _result(*slots[i])
                pending = assign(pending, first=False)
            if all(slot is None for slot in slots):
                break
            batch = tuple(actions[i] if slots[i] is not None else _idle_action() for i in range(k))
            t0 = time.perf_counter()
            obs, rewards, terms, truncs, info = venv.step(batch)
            wall = time.perf_counter() - t0
            unpacked = unpack_infos(info, k)
            finished = []
            for i, slot in enumerate(slots):
                if slot is None:
                    continue
                run, _ = slot
                actions[i] = run.advance(Step(batch[i], obs[i], float(rewards[i]), bool(terms[i]), bool(truncs[i]),
                                              unpacked[i], wall))
                if run.done:
                    finished.append(i)
            for i in finished:
                yield _result(*slots[i])
            if finished:
                pending = assign(finished, first=False)
    finally:
        venv.close()
