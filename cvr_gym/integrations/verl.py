"""``CVRAgentLoop``: a verl agent loop in which the model plays a cvr_gym env, turn by turn.

verl (``verl.experimental.agent_loop``) runs one agent loop per rollout: it asks the rollout
server for tokens and returns the trajectory (prompt ids, response ids, a loss mask that is 1 on
model tokens and 0 on everything else, and a reward). This loop:

1. resets the env on the dataset row's task (``extra_info.task_id``) with its ``group_id``, so
   the G rollouts of a group start alike (rows from ``cvr-gym export-verl``);
2. builds the prompt from the env's system prompt and reset observation (verl's Continuous
   Token builder, the chat template of the model);
3. generates a turn, decodes it and feeds the text to ``env.step`` (the env parses tool calls
   and answers; a malformed turn gets the env's error observation and format penalty), in a
   worker thread (``asyncio.to_thread``) so a slow real-video step never blocks the event loop
   that serves the other rollouts;
4. appends the observation as a ``tool`` message (``user`` after an invalid action), loss mask
   0, and goes on until the env ends the episode (``answer``, budget or step limit), the
   response budget (``rollout.response_length``) is spent or ``max_turns`` is reached;
5. returns the env's return (sum of step rewards) as ``reward_score`` and its components
   (``outcome``, ``format``, ``cost``, ``grounding``), score, frames and steps in
   ``extra_fields["reward_extra_info"]`` (verl logs them per key).

Why not verl's stock ``tool_agent`` loop with our tools as verl tools: it creates and releases a
tool instance around every call (our episode state, budgets and perception caches would be
rebuilt per call), it cannot end the episode when the model calls ``answer`` (it stops only when
a turn has no tool call), and its tool-schema model (``verl/tools/schemas.py``) drops the nested
``items`` of our ``observe.targets`` array and rejects the ``anyOf`` of ``answer``, so the model
would be shown wrong schemas.

Envs are built once per worker process and reused across rollouts (a real-video env loads its
perception models once).

Needs verl (``pip install verl``); verl pins transformers below this package's default stack, so
use a separate environment for it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from typing import Any
from uuid import uuid4

import gymnasium as gym
from omegaconf import DictConfig, OmegaConf
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register
from verl.utils.profiler import simple_timer

from cvr_gym.integrations.verl_data import AGENT_NAME

REWARD_COMPONENTS = ("outcome", "format", "cost", "grounding")


class _EnvPool:
    """Idle envs per (env id, arguments), shared by the loops of one worker process."""

    def __init__(self) -> None:
        self._idle: dict[str, list[gym.Env]] = defaultdict(list)
        self._lock = threading.Lock()

    @staticmethod
    def key(env_id: str, env_kwargs: dict[str, Any]) -> str:
        return json.dumps([env_id, env_kwargs], sort_keys=True, default=str)

    def acquire(self, env_id: str, env_kwargs: dict[str, Any]) -> gym.Env:
        with self._lock:
            idle = self._idle[self.key(env_id, env_kwargs)]
            if idle:
                return idle.pop()
        import cvr_gym  # noqa: F401  (registers the envs)

        return gym.make(env_id, disable_env_checker=True, **env_kwargs)

    def release(self, env_id: str, env_kwargs: dict[str, Any], env: gym.Env) -> None:
        with self._lock:
            self._idle[self.key(env_id, env_kwargs)].append(env)


ENV_POOL = _EnvPool()


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


@register(AGENT_NAME)
class CVRAgentLoop(AgentLoopBase):
    """A verl agent loop over a cvr_gym env (see the module's notes).

    ## Arguments

    verl's own (trainer config, server manager, tokenizer, ...) and, from the agent-loop YAML:

    - ``env_id``: the env (default ``"CVRSim-v0"``).
    - ``env_kwargs``: ``gym.make`` arguments (suite, split, reward weights, budgets, ...).
    - ``max_turns``: model turns per episode (default: the env's step limit, plus one).

    Dataset row fields read: ``extra_info.task_id`` (else ``task_index``), ``extra_info.group_id``
    and, optionally, ``extra_info.seed``.
    """

    def __init__(self, *args: Any, env_id: str = "CVRSim-v0", env_kwargs: dict[str, Any] | None = None,
                 max_turns: int | None = None, tools: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.env_id = env_id
        self.env_kwargs = dict(_plain(env_kwargs) or {})
        self.max_turns = max_turns
        self.response_length = self.rollout_config.response_length

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        extra = _plain(kwargs.get("extra_info")) or {}
        options: dict[str, Any] = {}
        if extra.get("task_id") is not None:
            options["task_id"] = str(extra["task_id"])
        elif extra.get("task_index") is not None:
            options["task_index"] = int(extra["task_index"])
        if extra.get("group_id") is not None:
            options["group_id"] = str(extra["group_id"])
        seed = extra.get("seed")

        env = await asyncio.to_thread(ENV_POOL.acquire, self.env_id, self.env_kwargs)
        try:
            return await self._play(env, options, None if seed is None else int(seed), sampling_params)
        finally:
            ENV_POOL.release(self.env_id, self.env_kwargs, env)

    async def _play(self, env: gym.Env, options: dict[str, Any], seed: int | None,
                    sampling_params: dict[str, Any]) -> AgentLoopOutput:
        metrics: dict[str, Any] = {}
        obs, info = await asyncio.to_thread(env.reset, seed=seed, options=options)
        base = env.unwrapped
        messages = [{"role": "system", "content": base.system_prompt}, {"role": "user", "content": obs}]
        runtime_ids = await self.ct_build_initial_tokens(messages)
        mask: list[int] = []
        logprobs: list[float] = []  # kept only when the server returns log-probabilities
        max_turns = self.max_turns or int(getattr(base, "max_steps", 12)) + 1
        request_id = uuid4().hex
        ret, turns, ended, step_info = 0.0, 0, False, info
        reason = "turns"
        while turns < max_turns:
            with simple_timer("generate_sequences", metrics):
                out = await self.server_manager.generate(request_id=request_id, prompt_ids=runtime_ids,
                                                         sampling_params=sampling_params)
            turns += 1
            merged, mask, new_logprobs = await self.ct_merge_assistant_token(
                runtime_ids, out.token_ids, mask, logprobs if (logprobs or out.log_probs) else None,
                assistant_logprobs=out.log_probs or None)
            runtime_ids = merged.token_ids
            logprobs = new_logprobs or logprobs
            text = self.tokenizer.decode(out.token_ids, skip_special_tokens=True)
            messages.append({"role": "assistant", "content": text})
            with simple_timer("tool_calls", metrics):
                obs, reward, terminated, truncated, step_info = await asyncio.to_thread(env.step, text)
            ret += float(reward)
            if terminated or truncated:
                ended, reason = True, step_info.get("termination_reason") or ("answer" if terminated else "limit")
                break
            if len(mask) >= self.response_length:
                reason = "response_length"
                break
            previous = list(messages)
            role = "user" if step_info.get("parse_error") else "tool"
            messages.append({"role": role, "content": obs})
            merged, mask, new_logprobs = await self.ct_merge_context_msg(
                previous, messages, runtime_ids, mask, logprobs or None)
            runtime_ids = merged.token_ids
            logprobs = new_logprobs or logprobs
            if len(mask) >= self.response_length:
                reason = "response_length"
                break

        response_ids = runtime_ids[len(runtime_ids) - len(mask):] if mask else []
        prompt_ids = runtime_ids[: len(runtime_ids) - len(mask)]
        totals = step_info.get("totals") or {}
        components = step_info.get("episode_reward_components") or {}
        score = step_info.get("score")
        extra = {f"reward_{k}": float(components.get(k, 0.0)) for k in REWARD_COMPONENTS}
        extra.update(score=float(score) if isinstance(score, (int, float)) and score == score else 0.0,
                     frames=float(totals.get("frames", 0)), env_steps=float(totals.get("steps", 0)),
                     episode_ended=float(ended))
        output = AgentLoopOutput(
            prompt_ids=prompt_ids,
            response_ids=response_ids[: self.response_length],
            response_mask=mask[: self.response_length],
            response_logprobs=logprobs[: self.response_length] if logprobs else None,
            reward_score=ret,
            num_turns=2 * turns + 1,
            metrics=metrics,
            extra_fields={"reward_extra_info": extra, "turn_scores": [], "tool_rewards": [],
                          "cvr_gym": {"task_id": step_info.get("task_id"), "termination_reason": reason,
                                      "return": ret, "reward_components": dict(components)}},
        )
        return output
