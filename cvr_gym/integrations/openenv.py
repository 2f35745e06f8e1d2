"""Serve any cvr_gym env with OpenEnv's server API, and play it remotely as a Gymnasium env.

Server: :func:`create_server_app` builds OpenEnv's FastAPI app (``openenv.core.env_server``
``create_app``) around :class:`CVRServerEnvironment`; every WebSocket session gets its own env
instance, so concurrent clients never share an episode. ``cvr-gym serve`` runs it with uvicorn,
on 127.0.0.1 unless told otherwise.

Client: :class:`RemoteCVREnv` is a ``gymnasium.Env`` over OpenEnv's ``EnvClient`` (one session
per env), with the served env's spaces, so agents, the TRL adapter, the trainers and
``cvr-gym eval --env CVRRemote-v0 --env-arg url=http://127.0.0.1:8000`` use it unchanged.

Wire format: the action travels as JSON (a :class:`~cvr_gym.core.actions.ToolCall` as its
``to_dict()``; text and dicts as they are, since the env parses them anyway); the observation
carries the text, the reward, ``terminated``/``truncated`` and the info in JSON form, whose
evidence records the client turns back into :class:`~cvr_gym.core.evidence.Evidence`.

OpenEnv's server and client need only ``fastapi``, ``uvicorn``, ``websockets`` and ``fastmcp``;
installing ``openenv`` with all its dependencies also brings gradio (its web UI), which pins
``pillow<13``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import gymnasium as gym

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.evidence import Evidence
from cvr_gym.core.spaces import ToolCallSpace, UnicodeText
from cvr_gym.evaluation.records import jsonable

try:
    from openenv.core.client_types import StepResult
    from openenv.core.env_client import EnvClient
    from openenv.core.env_server import Action, Environment, Observation, State, create_app
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("cvr_gym.integrations.openenv needs OpenEnv: pip install 'cvr-gym[openenv]'") from err

DEFAULT_HOST = "127.0.0.1"


# -- wire types -------------------------------------------------------------------------------------

class CVRAction(Action):
    """One env action in JSON form: a tool call dict, a list of them, or the model's text."""

    action: Any


class CVRObservation(Observation):
    """What ``env.reset``/``env.step`` returned, in JSON form (``reward``/``done`` in the base)."""

    text: str = ""
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = {}


class CVRState(State):
    """The session's env: its id, construction arguments, spaces and the public settings a client
    reads from a local env (system prompt, tool schemas, limits, a digest of its task list)."""

    env_id: str = ""
    env_kwargs: dict[str, Any] = {}
    spaces: dict[str, Any] = {}
    task_id: str | None = None
    system_prompt: str = ""
    tools: list[dict[str, Any]] = []
    max_steps: int = 0
    frame_budget: int = 0
    num_tasks: int = 0
    tasks_digest: str = ""


def tasks_digest(suite: Any) -> str:
    """A short fingerprint of a suite's task ids, in order (client and server load the same tasks)."""
    return hashlib.sha256("\n".join(t.id for t in suite).encode("utf-8")).hexdigest()[:16]


def action_to_wire(action: Any) -> Any:
    """A JSON form of an action that the env parses into the same tool calls."""
    if isinstance(action, ToolCall):
        return action.to_dict()
    if isinstance(action, (list, tuple)):
        return [action_to_wire(a) for a in action]
    return jsonable(action)


def info_from_wire(info: dict[str, Any]) -> dict[str, Any]:
    """The info as the local env gives it: evidence as :class:`Evidence` records."""
    out = dict(info)
    if isinstance(out.get("evidence"), list):
        out["evidence"] = [Evidence.coerce(e) or e for e in out["evidence"]]
    return out


def _space_config(env: gym.Env) -> dict[str, Any]:
    act, obs = env.action_space, env.observation_space
    if not isinstance(act, ToolCallSpace) or not isinstance(obs, gym.spaces.Text):
        raise TypeError(f"only text-in, tool-call-out envs can be served, got {obs} and {act}")
    return {"max_videos": act.max_videos, "max_duration": act.max_duration,
            "max_frames_per_target": act.max_frames_per_target, "max_targets": act.max_targets,
            "num_options": act.num_options, "obs_max_length": obs.max_length}


# -- server -----------------------------------------------------------------------------------------

class CVRServerEnvironment(Environment):
    """An OpenEnv ``Environment`` holding one cvr_gym env (one per client session).

    Arguments:
        env_id: a registered env id (``"CVRSim-v0"``, ``"CVRReal-v0"``, ...).
        env_kwargs: keyword arguments for ``gym.make``.
    """

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, env_id: str = "CVRSim-v0", env_kwargs: dict[str, Any] | None = None):
        super().__init__()
        import cvr_gym  # noqa: F401  (registers the envs)

        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.env = gym.make(env_id, disable_env_checker=True, **self.env_kwargs)
        base = self.env.unwrapped
        self._state = CVRState(env_id=env_id, env_kwargs=jsonable(self.env_kwargs), spaces=_space_config(self.env),
                               system_prompt=base.system_prompt, tools=jsonable(base.tools),
                               max_steps=int(base.max_steps), frame_budget=int(base.frame_budget),
                               num_tasks=len(base.suite), tasks_digest=tasks_digest(base.suite))

    def reset(self, seed: int | None = None, episode_id: str | None = None,
              options: dict[str, Any] | None = None, **kwargs: Any) -> CVRObservation:
        obs, info = self.env.reset(seed=seed, options=options)
        self._state.episode_id = episode_id or uuid.uuid4().hex
        self._state.step_count = 0
        self._state.task_id = info.get("task_id")
        return CVRObservation(text=obs, reward=0.0, done=False, info=jsonable(info))

    def step(self, action: CVRAction, timeout_s: float | None = None, **kwargs: Any) -> CVRObservation:
        obs, reward, terminated, truncated, info = self.env.step(action.action)
        self._state.step_count += 1
        return CVRObservation(text=obs, reward=float(reward), done=bool(terminated or truncated),
                              terminated=bool(terminated), truncated=bool(truncated), info=jsonable(info))

    @property
    def state(self) -> CVRState:
        return self._state

    def close(self) -> None:
        self.env.close()


def create_server_app(env_id: str = "CVRSim-v0", env_kwargs: dict[str, Any] | None = None,
                      max_sessions: int = 8) -> Any:
    """OpenEnv's FastAPI app serving ``env_id`` to up to ``max_sessions`` concurrent sessions."""
    import cvr_gym  # noqa: F401

    probe = CVRServerEnvironment(env_id, env_kwargs)  # fail now, not on the first connection
    probe.close()

    def factory() -> CVRServerEnvironment:
        return CVRServerEnvironment(env_id, env_kwargs)

    return create_app(factory, CVRAction, CVRObservation, env_name="cvr_gym", max_concurrent_envs=max_sessions,
                      state_cls=CVRState, mode="simulation")


def serve(env_id: str = "CVRSim-v0", env_kwargs: dict[str, Any] | None = None, host: str = DEFAULT_HOST,
          port: int = 8000, max_sessions: int = 8, log_level: str = "warning") -> None:
    """Run the server until interrupted (uvicorn)."""
    import uvicorn

    uvicorn.run(create_server_app(env_id, env_kwargs, max_sessions), host=host, port=port, log_level=log_level)


# -- client -----------------------------------------------------------------------------------------

class CVRClient(EnvClient):
    """OpenEnv ``EnvClient`` for :class:`CVRServerEnvironment` (async; ``.sync()`` for blocking use)."""

    def _step_payload(self, action: CVRAction) -> dict[str, Any]:
        return action.model_dump()

    def _parse_result(self, payload: dict[str, Any]) -> StepResult:
        obs = CVRObservation(**payload.get("observation", {}), reward=payload.get("reward"),
                             done=bool(payload.get("done", False)))
        return StepResult(observation=obs, reward=payload.get("reward"), done=bool(payload.get("done", False)))

    def _parse_state(self, payload: dict[str, Any]) -> CVRState:
        return CVRState(**payload)


class RemoteCVREnv(gym.Env):
    """A cvr_gym env served by ``cvr-gym serve``, played over OpenEnv's WebSocket protocol.

    ## Description

    Each ``RemoteCVREnv`` opens one session on the server (its own env instance there) and
    forwards ``reset``/``step``; observations, rewards, episode ends and infos are those of the
    served env, so an episode played remotely equals the same episode played locally.

    ## Action Space / Observation Space

    The served env's: a ``ToolCallSpace`` and Unicode text, rebuilt from the server's state.

    ## Rewards / Episode End

    The served env's (``terminated`` on ``answer``, ``truncated`` on budget or step limit).

    ## Arguments

    - ``url``: the server (``http://127.0.0.1:8000`` or ``ws://...``).
    - ``suite``, ``split`` and any other keyword: what the caller expects the served env to be
      built with (``cvr-gym eval`` passes its ``--suite``/``--split``); a value the server was not
      started with raises ``ValueError`` instead of silently playing other tasks.
    - ``timeout_s``: seconds to wait for one reply (a real-video step can take seconds).

    ## Attributes

    What trainers and exports read from a local env: ``system_prompt``, ``tools``,
    ``max_steps``, ``frame_budget`` (the served env's), and ``suite``, the served task list,
    loaded on first use from the ``suite``/``split``/``families`` the server was started with (a
    bundled suite, or a task file the client reads at the same path) and checked against the
    server's, so ``len(env.unwrapped.suite)`` and task ids mean the same on both sides.
    """

    metadata = {"render_modes": []}

    def __init__(self, url: str = f"http://{DEFAULT_HOST}:8000", suite: Any = None, split: Any = None,
                 timeout_s: float = 300.0, **expected: Any):
        self.url = url
        self._client = CVRClient(base_url=url, message_timeout_s=timeout_s).sync()
        self._client.connect()
        try:
            state = self._client.state()
            expected.update({k: v for k, v in (("suite", suite), ("split", split)) if v is not None})
            self._check(state, expected)
        except BaseException:
            self._client.close()
            raise
        self.env_id = state.env_id
        self._served = state
        self._suite = None
        self.system_prompt, self.tools = state.system_prompt, state.tools
        self.max_steps, self.frame_budget = state.max_steps, state.frame_budget
        sp = state.spaces
        self.action_space = ToolCallSpace(sp["max_videos"], sp["max_duration"], sp["max_frames_per_target"],
                                          sp["max_targets"], sp["num_options"])
        self.observation_space = UnicodeText(sp["obs_max_length"])

    @property
    def suite(self) -> Any:
        """The served env's tasks (see the class notes); raises ``ValueError`` if they cannot be
        loaded here or differ from the server's."""
        if self._suite is None:
            import inspect

            from cvr_gym.core.suites import load_suite
            from cvr_gym.envs.cvr_env import CVREnv

            served = self._served.env_kwargs
            if served.get("tasks") is not None:
                raise ValueError(f"{self.url} serves tasks passed in code (tasks=...): their list is not known here")
            defaults = inspect.signature(CVREnv.__init__).parameters
            name = served.get("suite", defaults["suite"].default)
            split = served.get("split", defaults["split"].default)
            try:
                suite = load_suite(name, split=split).filter(served.get("families"))
            except (OSError, ValueError) as err:
                raise ValueError(f"{self.url} serves suite {name!r} (split {split!r}), which cannot be loaded "
                                 f"here: {err}") from err
            if len(suite) != self._served.num_tasks or tasks_digest(suite) != self._served.tasks_digest:
                raise ValueError(f"suite {name!r} (split {split!r}) here is not the one {self.url} serves: "
                                 f"{len(suite)} tasks here, {self._served.num_tasks} there")
            self._suite = suite
        return self._suite

    def _check(self, state: CVRState, expected: dict[str, Any]) -> None:
        # Limits compare as the served env applies them (its defaults included).
        served = {**state.env_kwargs, "max_steps": state.max_steps, "frame_budget": state.frame_budget}
        wrong = {k: (v, served.get(k)) for k, v in jsonable(expected).items() if served.get(k) != v}
        if wrong:
            detail = ", ".join(f"{k}={want!r} (server: {got!r})" for k, (want, got) in sorted(wrong.items()))
            raise ValueError(f"{self.url} serves {state.env_id} with other settings: {detail}; start the server "
                             f"with them (cvr-gym serve --env-arg KEY=VALUE) or drop them here")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        result = self._client.reset(seed=seed, options=options)
        return result.observation.text, info_from_wire(result.observation.info)

    def step(self, action: Any):
        result = self._client.step(CVRAction(action=action_to_wire(action)))
        obs = result.observation
        return obs.text, float(result.reward or 0.0), obs.terminated, obs.truncated, info_from_wire(obs.info)

    def state(self) -> CVRState:
        """The server-side session state (episode id, step count, env settings)."""
        return self._client.state()

    def close(self) -> None:
        client, self._client = getattr(self, "_client", None), None
        if client is not None:
            client.close()
