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
    """The session's env: its id, construction arguments and spaces (to rebuild them remotely)."""

    env_id: str = ""
    env_kwargs: dict[str, Any] = {}
    spaces: dict[str, Any] = {}
    task_id: str | None = None


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
        self._state = CVRState(env_id=env_id, env_kwargs=jsonable(self.env_kwargs),
                               spaces=_space_config(self.env))

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
        sp = state.spaces
        self.action_space = ToolCallSpace(sp["max_videos"], sp["max_duration"], sp["max_frames_per_target"],
                                          sp["max_targets"], sp["num_options"])
        self.observation_space = UnicodeText(sp["obs_max_length"])

    def _check(self, state: CVRState, expected: dict[str, Any]) -> None:
        served = state.env_kwargs
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
