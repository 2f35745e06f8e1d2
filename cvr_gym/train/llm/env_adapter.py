"""The env as TRL sees it: ``CVRToolEnv`` for ``GRPOTrainer(environment_factory=...)``.

Each dataset row (:func:`cvr_gym.train.llm.datasets.build_rows`) holds the system prompt and
the task prompt as chat messages plus ``task_id`` and ``group_id``. TRL repeats a row for the
``G`` completions of a group and gives each its own :class:`CVRToolEnv`, whose ``reset(**row)``
resets the env on that task with that ``group_id`` (the ``G`` rollouts start identically,
perception noise included). The public methods ``observe``, ``listen`` and ``answer`` are the
tools: TRL renders their schemas from the type hints and docstrings, parses the model's tool
calls, runs them (each is one ``env.step``) and appends the observation as a tool message whose
tokens are masked from the loss. When the model ends a rollout without a tool call TRL can read,
the :func:`finish_with_text` reward hook hands its last reply to ``env.step`` as raw text, as
the eval agent does. ``get_reward`` then returns the episode return (the env's rubric).
"""

from __future__ import annotations

from typing import Any

from cvr_gym.core.formatting import terse_observation
from cvr_gym.train.llm.config import DEFAULT_ENV_ID

__all__ = ["CVRToolEnv", "EnvironmentFactory", "finish_with_text"]


# -- the environment TRL talks to ---------------------------------------------------------------
class CVRToolEnv:
    """One rollout's env for TRL's ``environment_factory``: tools that forward to ``env.step``.

    ``reset(**row)`` resets the wrapped gym env on ``row["task_id"]`` with ``row["group_id"]``.
    ``observe``, ``listen`` and ``answer`` each run one env step and return its observation text;
    after the episode ends they step no more and say so. ``get_reward()`` is the episode return.
    ``history`` records the episode's actions (``source`` is ``"tool"`` or ``"text"``) and
    ``counts`` the env steps by source over the instance's life (TRL reuses instances across
    batches). Pass ``env`` to wrap an existing env, else one is made from ``env_id``.
    """

    def __init__(self, env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None, env: Any = None,
                 max_evidence: int | None = None):
        if env is None:
            import gymnasium as gym

            import cvr_gym  # noqa: F401  (registers the envs)

            env = gym.make(env_id, disable_env_checker=True, **(env_kwargs or {}))
        self.env = env
        self.max_evidence = max_evidence  # compact prompts: cut tool results to this many records
        self.prompt: str | None = None
        self.history: list[dict[str, Any]] = []
        self.episode_return = 0.0
        self.done = True
        self.info: dict[str, Any] = {}
        self.counts = {"tool": 0, "text": 0, "invalid": 0, "episodes": 0}

    def reset(self, task_id: str | None = None, group_id: Any = None, prompt: Any = None, **row: Any) -> str | None:
        """Start the row's task. Returns the task prompt for TRL to append to the last user
        message, or ``None`` when the row's prompt already ends with it (rows from
        :func:`build_dataset`)."""
        options = {k: v for k, v in (("task_id", task_id), ("group_id", group_id)) if v is not None}
        obs, info = self.env.reset(options=options or None)
        self.prompt, self.info = obs, info
        self.history, self.episode_return, self.done = [], 0.0, False
        self.counts["episodes"] += 1
        last = prompt[-1].get("content") if isinstance(prompt, list) and prompt else None
        if isinstance(last, str) and last.rstrip().endswith(obs.rstrip()):
            return None
        return obs

    # The tools. Type hints and Google-style docstrings are what TRL turns into schemas; they
    # mirror env.unwrapped.tools (names, parameters, required ones).
    def observe(self, targets: list[dict[str, float]], focus: str = "", resize: float | None = None) -> str:
        """Ask the visual agent what is visible in time windows of videos. num_frames frames are sampled evenly in each window: few frames over a long window can miss short events. Several targets compare windows side by side.

        Args:
            targets: windows to look at, each {"video": 1-based index, "start": seconds, "end": seconds, "num_frames": frames to sample (each costs budget)}
            focus: what to look for; evidence matching it comes first
            resize: scale of each frame's sides before the visual agent looks (default 1): visual tokens scale with the area, so 0.5 costs a quarter, but small text and objects may become unreadable
        """
        arguments: dict[str, Any] = {"targets": targets, "focus": focus}
        if resize is not None:
            arguments["resize"] = resize
        return self._tool({"name": "observe", "arguments": arguments})

    def listen(self, video: int, start: float, end: float, focus: str = "") -> str:
        """Ask the audio agent for the speech and sounds in a time window of one video.

        Args:
            video: 1-based index of the video, as listed in the prompt
            start: window start, seconds
            end: window end, seconds (after start)
            focus: what to listen for; evidence matching it comes first
        """
        return self._tool({"name": "listen", "arguments": {"video": video, "start": start, "end": end,
                                                           "focus": focus}})

    def answer(self, answer: str | float | list[str | float]) -> str:
        """Submit the final answer and end the episode. Use the format the question asks for: an option letter ("B"), a list of letters (["A", "C"]), letters in order, [start, end] seconds, a number, or free text.

        Args:
            answer: the answer
        """
        return self._tool({"name": "answer", "arguments": {"answer": answer}})

    def get_reward(self) -> float:
        """The episode return: the sum of the env's rubric rewards so far."""
        return float(self.episode_return)

    # -- internals (private: TRL turns every public method into a tool) --
    def _tool(self, action: dict[str, Any]) -> str:
        if self.done:
            return "The episode has ended; no more tool calls are needed."
        return self._step(action, "tool")

    def _step(self, action: Any, source: str) -> str:
        # Dicts, not ToolCall objects: the env's parser validates them, so bad arguments become
        # an error observation and a format penalty instead of an exception.
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.episode_return += float(reward)
        self.done = bool(terminated or truncated)
        self.info = info
        self.counts[source] += 1
        self.counts["invalid"] += info.get("parse_error") is not None
        self.history.append({"source": source, "action": action, "reward": float(reward),
                             "parse_error": info.get("parse_error"), "done": self.done})
        return obs if self.max_evidence is None else terse_observation(obs, self.max_evidence)

    def _finish_with_text(self, completion: Any) -> None:
        """If the episode is open and the model's last turn had no tool call, step with its text."""
        if self.done:
            return
        last = completion[-1] if isinstance(completion, list) and completion else None
        if isinstance(completion, str):
            text = completion
        elif isinstance(last, dict) and last.get("role") == "assistant" and not last.get("tool_calls"):
            text = last.get("content") or ""
            if not isinstance(text, str):  # multimodal content parts
                text = " ".join(p.get("text", "") for p in text if isinstance(p, dict))
        else:
            return  # cut off by the turn or length bound mid-call: the episode just stays unfinished
        self._step(text, "text")


class EnvironmentFactory:
    """Zero-argument factory for ``GRPOTrainer(environment_factory=...)``; keeps its instances."""

    def __init__(self, env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None,
                 max_evidence: int | None = None):
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.max_evidence = max_evidence
        self.instances: list[CVRToolEnv] = []

    def __call__(self) -> CVRToolEnv:
        env = CVRToolEnv(self.env_id, self.env_kwargs, max_evidence=self.max_evidence)
        self.instances.append(env)
        return env


def finish_with_text(completions: list, environments: list | None = None, **_: Any) -> list[None]:
    """Reward hook run before the envs' ``get_reward``: finishes episodes the model left open
    by stepping with its last reply as raw text. Scores nothing itself (``None`` = no column)."""
    for completion, env in zip(completions, environments or []):
        if isinstance(env, CVRToolEnv):
            env._finish_with_text(completion)
    return [None] * len(completions)
