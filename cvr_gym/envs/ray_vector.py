"""A Gymnasium vector env whose sub-envs are Ray actors, replaced and replayed when one dies.

Each sub-env lives in its own Ray actor (:class:`EnvActor`), built once from its ``env_fn`` on the
worker, so a real-video env loads its perception models once per actor and keeps them across
episodes. :class:`RayVectorEnv` is a drop-in for ``SyncVectorEnv``/``AsyncVectorEnv``: the same
batching (Gymnasium's ``concatenate`` and ``_add_info``), the same autoreset modes, ``reset_mask``,
``call``/``get_attr``/``set_attr``. Steps go to all actors at once and are gathered in order, so
results do not depend on which actor answers first.

Fault tolerance: the vector env keeps, for each sub-env, a journal of what it did since its
last reset (the reset's seed and options, and for an unseeded reset the env's RNG state before
it; then every step and attribute change). When an actor dies (node lost, worker killed, out of
memory), a fresh actor is built and the journal replayed onto it, which reruns the episode in
progress up to where it was, and the failed call is sent again. Envs are deterministic given
seed, options and actions, so the replacement continues the very same episode and the run's
records do not change. A slot that keeps dying (``max_restarts`` times) raises.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

LOCAL = "local"
_BUILDS = 0  # envs built in this process: an actor builds exactly one


def init_ray(address: str | None = None, num_cpus: int | None = None, **kwargs: Any) -> None:
    """Connect to Ray once: ``address`` of a cluster (``"auto"``, ``"ray://host:10001"``), or
    ``None``/``"local"`` for a local instance with ``num_cpus`` CPUs and no dashboard."""
    import ray

    if ray.is_initialized():
        return
    if address in (None, "", LOCAL):
        # Ray starts workers with OMP_NUM_THREADS=1; perception models (Whisper's oneDNN GEMMs)
        # give slightly different numbers at other thread counts. On one machine the workers use
        # this process's setting (unset: OpenMP's default, every core), so a Ray run equals a
        # local one; set OMP_NUM_THREADS to bound the threads of both.
        runtime_env = dict(kwargs.pop("runtime_env", None) or {})
        env_vars = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(_cores())),
                    **runtime_env.get("env_vars", {})}
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                 runtime_env={**runtime_env, "env_vars": env_vars}, **kwargs)
    else:
        ray.init(address=address, **kwargs)


def _cores() -> int:
    """The cores this process may run on (OpenMP's default thread count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class EnvActor:
    """One env in a Ray worker process (use through :class:`RayVectorEnv`).

    Arguments:
        env_fn: builds the env; called once, on the worker.
    """

    def __init__(self, env_fn: Callable[[], gym.Env]):
        global _BUILDS
        self.env = env_fn()
        _BUILDS += 1

    def spaces(self) -> tuple[gym.Space, gym.Space, dict, str | None]:
        return self.env.observation_space, self.env.action_space, dict(self.env.metadata), self.env.render_mode

    def reset(self, seed: int | None, options: dict | None, rng: np.random.Generator | None = None):
        """Reset; an unseeded reset also returns the RNG it started from (``None`` if unseeded ever)."""
        base = self.env.unwrapped
        if rng is not None:
            base.np_random = copy.deepcopy(rng)
        before = None
        if seed is None and getattr(base, "_np_random", None) is not None:
            before = copy.deepcopy(base._np_random)
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, info, before

    def step(self, action: Any):
        return self.env.step(action)

    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        attr = self.env.get_wrapper_attr(name)
        return attr(*args, **kwargs) if callable(attr) else attr

    def set_attr(self, name: str, value: Any) -> None:
        self.env.set_wrapper_attr(name, value)

    def describe(self) -> dict[str, Any]:
        """Where this env lives: process id, envs built in that process, ids of its perception backends."""
        perceiver = getattr(self.env.unwrapped, "perceiver", None)
        return {"pid": os.getpid(), "builds": _BUILDS,
                "backends": [id(getattr(perceiver, k, None)) for k in ("visual", "audio")]}

    def close(self) -> None:
        self.env.close()


class RayVectorEnv(VectorEnv):
    """Vectorise ``env_fns`` over Ray actors, one actor per sub-env.

    ## Description

    Behaves as Gymnasium's ``SyncVectorEnv`` over the same ``env_fns`` (same observations,
    rewards, infos and autoreset semantics), with every sub-env stepping in its own Ray actor, in
    parallel, on the machine or cluster Ray is connected to. If Ray is not initialised yet, a
    local instance is started (``address``, ``num_cpus``: see :func:`init_ray`).

    ## Action Space / Observation Space

    The sub-envs' spaces, batched as Gymnasium batches them.

    ## Fault tolerance

    A sub-env whose actor dies is rebuilt and its episode replayed from its reset (see the
    module's notes); ``restarts`` counts replacements per sub-env.

    ## Arguments

    - ``env_fns``: one callable per sub-env; pickled to the workers (use module-level functions
      or ``functools.partial`` of them).
    - ``address``: Ray address, or ``None``/``"local"`` for a local Ray (only used when Ray is
      not initialised yet).
    - ``num_cpus``: CPUs of a local Ray (default: at least one per sub-env).
    - ``actor_options``: options for each actor (``num_cpus``, ``num_gpus``, ``memory``,
      ``runtime_env``, ...); default ``{"num_cpus": 1}`` on a multi-node cluster, no CPU
      reservation on one machine (there the number of sub-envs is the concurrency).
    - ``autoreset_mode``: as for Gymnasium's vector envs (default ``NEXT_STEP``).
    - ``max_restarts``: replacements allowed per sub-env before giving up.
    - ``copy``: return copies of the batched observations (as ``SyncVectorEnv``).
    """

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], *, address: str | None = None,
                 num_cpus: int | None = None, actor_options: dict[str, Any] | None = None,
                 autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP, max_restarts: int = 3,
                 copy: bool = True):
        import ray

        self.env_fns = list(env_fns)
        self.num_envs = len(self.env_fns)
        if self.num_envs < 1:
            raise ValueError("RayVectorEnv needs at least one env_fn")
        init_ray(address, num_cpus if num_cpus is not None else max(self.num_envs, os.cpu_count() or 1))
        # On one machine the number of sub-envs is the concurrency: actors reserve no CPU, so a
        # second vector env (the GRPO trainer's evaluation envs) never waits for CPUs held by the
        # first. On a cluster each actor takes a CPU, which spreads them over the nodes.
        single_node = len([n for n in ray.nodes() if n.get("Alive")]) <= 1
        self.actor_options = dict(actor_options if actor_options is not None
                                  else {"num_cpus": 0 if single_node else 1})
        self._ray = ray
        self._actor_cls = ray.remote(EnvActor)
        self.autoreset_mode = (autoreset_mode if isinstance(autoreset_mode, AutoresetMode)
                               else AutoresetMode(autoreset_mode))
        self.max_restarts = int(max_restarts)
        self.copy = copy
        self.restarts = [0] * self.num_envs
        self._attrs: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        self._attrs_at_reset: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        self._journal: list[list[tuple]] = [[] for _ in range(self.num_envs)]
        self.actors = [self._new_actor(fn) for fn in self.env_fns]

        obs_space, act_space, metadata, render_mode = ray.get(self.actors[0].spaces.remote())
        self.single_observation_space, self.single_action_space = obs_space, act_space
        self.observation_space = batch_space(obs_space, self.num_envs)
        self.action_space = batch_space(act_space, self.num_envs)
        self.metadata = dict(metadata)
        self.metadata["autoreset_mode"] = self.autoreset_mode
        self.render_mode = render_mode

        self._env_obs: list[Any] = [None] * self.num_envs
        self._observations = create_empty_array(obs_space, n=self.num_envs, fn=np.zeros)
        self._rewards = np.zeros((self.num_envs,), dtype=np.float64)
        self._terminations = np.zeros((self.num_envs,), dtype=np.bool_)
        self._truncations = np.zeros((self.num_envs,), dtype=np.bool_)
        self._autoreset_envs = np.zeros((self.num_envs,), dtype=np.bool_)

    # -- actors and their journals ---------------------------------------------------------------

    def _new_actor(self, env_fn: Callable[[], gym.Env]):
        return self._actor_cls.options(max_restarts=0, max_task_retries=0, **self.actor_options).remote(env_fn)

    def _send(self, i: int, method: str, *args: Any):
        return getattr(self.actors[i], method).remote(*args)

    def _gather(self, i: int, ref: Any, method: str, *args: Any) -> Any:
        """The result of ``ref``; if actor ``i`` died, replace it, replay, and call again."""
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

        while True:
            try:
                return self._ray.get(ref)
            except (RayActorError, ActorDiedError, ActorUnavailableError) as err:
                self._replace(i, err)
                ref = self._send(i, method, *args)

    def _replace(self, i: int, err: BaseException) -> None:
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

        if getattr(err, "actor_init_failed", False):  # the env cannot be built there: a rebuild fails alike
            raise RuntimeError(f"sub-env {i}: building its env on the Ray worker failed: {err}") from err
        if self.restarts[i] >= self.max_restarts:
            raise RuntimeError(f"sub-env {i}: its Ray actor died {self.restarts[i] + 1} times; last: {err}") from err
        self.restarts[i] += 1
        try:
            self._ray.kill(self.actors[i], no_restart=True)
        except Exception:  # already gone
            pass
        self.actors[i] = self._new_actor(self.env_fns[i])
        try:
            for name, value in self._attrs_at_reset[i].items():
                self._ray.get(self.actors[i].set_attr.remote(name, value))
            for method, *args in self._journal[i]:
                self._ray.get(getattr(self.actors[i], method).remote(*args))
        except (RayActorError, ActorDiedError, ActorUnavailableError) as again:
            self._replace(i, again)

    def _record(self, i: int, entry: tuple) -> None:
        if entry[0] == "reset":
            self._attrs_at_reset[i] = dict(self._attrs[i])
            self._journal[i] = [entry]
        else:
            self._journal[i].append(entry)

    def _reset_one(self, i: int, seed: int | None, options: dict | None):
        return self._send(i, "reset", seed, options, None), (seed, options)

    def _finish_reset(self, i: int, ref: Any, seed: int | None, options: dict | None) -> tuple[Any, dict]:
        obs, info, before = self._gather(i, ref, "reset", seed, options, None)
        # A replay restores the RNG the reset started from, so unseeded resets rerun alike.
        self._record(i, ("reset", seed, options, before))
        return obs, info

    # -- VectorEnv API -----------------------------------------------------------------------------

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        if seed is None:
            seed = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seed = [int(seed) + i for i in range(self.num_envs)]
        if len(seed) != self.num_envs:
            raise ValueError(f"If seeds are passed as a list the length must match num_envs={self.num_envs} "
                             f"but got length={len(seed)}.")
        options = dict(options) if options is not None else None
        mask = np.ones((self.num_envs,), dtype=np.bool_)
        if options is not None and "reset_mask" in options:
            mask = options.pop("reset_mask")
            if not isinstance(mask, np.ndarray) or mask.shape != (self.num_envs,) or mask.dtype != np.bool_:
                raise TypeError(f"options['reset_mask'] must be a bool numpy array of shape ({self.num_envs},)")
            if not mask.any():
                raise ValueError("options['reset_mask'] must have at least one True value")
        self._terminations[mask] = False
        self._truncations[mask] = False
        self._autoreset_envs[mask] = False
        refs = {i: self._send(i, "reset", seed[i], options, None) for i in np.flatnonzero(mask).tolist()}
        infos: dict[str, Any] = {}
        for i, ref in refs.items():
            self._env_obs[i], info = self._finish_reset(i, ref, seed[i], options)
            infos = self._add_info(infos, info, i)
        return self._batch(), infos

    def step(self, actions: Any):
        actions = list(iterate(self.action_space, actions))
        refs: list[tuple[str, Any]] = []
        for i, action in enumerate(actions):
            if self.autoreset_mode == AutoresetMode.NEXT_STEP and self._autoreset_envs[i]:
                refs.append(("reset", self._send(i, "reset", None, None, None)))
            else:
                if self.autoreset_mode == AutoresetMode.DISABLED:
                    assert not self._autoreset_envs[i], f"{self._autoreset_envs=}"
                refs.append(("step", self._send(i, "step", action)))
        infos: dict[str, Any] = {}
        for i, (kind, ref) in enumerate(refs):
            if kind == "reset":
                self._env_obs[i], info = self._finish_reset(i, ref, None, None)
                self._rewards[i], self._terminations[i], self._truncations[i] = 0.0, False, False
            else:
                (self._env_obs[i], self._rewards[i], self._terminations[i], self._truncations[i],
                 info) = self._gather(i, ref, "step", actions[i])
                self._record(i, ("step", actions[i]))
                if self.autoreset_mode == AutoresetMode.SAME_STEP and (self._terminations[i] or self._truncations[i]):
                    infos = self._add_info(infos, {"final_obs": self._env_obs[i], "final_info": info}, i)
                    self._env_obs[i], info = self._finish_reset(i, self._send(i, "reset", None, None, None),
                                                                None, None)
            infos = self._add_info(infos, info, i)
        self._autoreset_envs = np.logical_or(self._terminations, self._truncations)
        return (self._batch(), np.copy(self._rewards), np.copy(self._terminations),
                np.copy(self._truncations), infos)

    def _batch(self) -> Any:
        self._observations = concatenate(self.single_observation_space, self._env_obs, self._observations)
        return copy.deepcopy(self._observations) if self.copy else self._observations

    def render(self) -> tuple[Any, ...]:
        return self.call("render")

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        refs = [self._send(i, "call", name, args, kwargs) for i in range(self.num_envs)]
        out = tuple(self._gather(i, ref, "call", name, args, kwargs) for i, ref in enumerate(refs))
        for i in range(self.num_envs):
            self._record(i, ("call", name, args, kwargs))
        return out

    def get_attr(self, name: str) -> tuple[Any, ...]:
        refs = [self._send(i, "call", name, (), {}) for i in range(self.num_envs)]
        return tuple(self._gather(i, ref, "call", name, (), {}) for i, ref in enumerate(refs))

    def set_attr(self, name: str, values: list[Any] | tuple[Any, ...] | Any) -> None:
        if not isinstance(values, (list, tuple)):
            values = [values] * self.num_envs
        if len(values) != self.num_envs:
            raise ValueError("Values must be a list or tuple with length equal to the number of environments. "
                             f"Got `{len(values)}` values for {self.num_envs} environments.")
        refs = [self._send(i, "set_attr", name, v) for i, v in enumerate(values)]
        for i, ref in enumerate(refs):
            self._gather(i, ref, "set_attr", name, values[i])
            self._attrs[i][name] = values[i]
            self._record(i, ("set_attr", name, values[i]))

    def describe_workers(self) -> list[dict[str, Any]]:
        """Per sub-env: its actor's process id, envs built there (1), ids of its perception backends."""
        refs = [self._send(i, "describe") for i in range(self.num_envs)]
        return [self._gather(i, ref, "describe") for i, ref in enumerate(refs)]

    def close_extras(self, **kwargs: Any) -> None:
        for actor in getattr(self, "actors", []):
            try:
                self._ray.get(actor.close.remote(), timeout=30)
            except Exception:  # a dead actor has nothing left to close
                pass
            try:
                self._ray.kill(actor, no_restart=True)
            except Exception:
                pass
        self.actors = []
