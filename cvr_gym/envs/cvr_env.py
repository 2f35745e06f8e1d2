"""The cross-video reasoning env: one class for the simulator and the real world."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from cvr_gym.core.actions import MAX_SECONDS, MAX_VIDEO_INDEX, ListenArgs, ObserveArgs, Target, ToolCall
from cvr_gym.core.costs import CallCost, CostModel, CostTotals
from cvr_gym.core.focus import rank_by_focus
from cvr_gym.core.formatting import ToolResult, format_prompt, format_status, format_step
from cvr_gym.core.limits import Limits
from cvr_gym.core.parsing import ActionParseError, parse_action_notes
from cvr_gym.core.rewards import COMPONENTS, RewardConfig, span_coverage
from cvr_gym.core.scoring import ScoringConfig, score_answer
from cvr_gym.core.spaces import OBS_MAX_CHARS, ToolCallSpace, UnicodeText
from cvr_gym.core.suites import Suite, load_suite
from cvr_gym.core.tasks import Task
from cvr_gym.core.tools import system_prompt, tool_schemas
from cvr_gym.core.windows import resolve_call
from cvr_gym.core.presets import (agentcvr_prompt, agentcvr_system_prompt, eva_prompt, eva_system_prompt,
                                  fit_call)
from cvr_gym.envs.perceiver import PerceptionError, Perceiver

InvalidActionPolicy = Literal["feedback", "terminate", "retry"]


class CVREnv(gym.Env[str, Any]):
    """Answer a question about several videos by calling a visual agent and an audio agent.

    ## Description

    Each episode is one task: a question about 2 to 4 videos. The agent (the "master") never
    sees pixels. It calls ``observe`` to have a visual agent look at time windows (with a frame
    count and a focus prompt), ``listen`` to have an audio agent report the speech and sounds in
    a window, and finally ``answer``. What answers the calls is the env's *perceiver*: the
    :class:`~cvr_gym.envs.script_perceiver.ScriptPerceiver` looks evidence up in per-video
    scripts (``CVRSim-v0``, microseconds per step); the video perceiver decodes real files and
    runs perception models (``CVRReal-v0``). Everything else (parsing, budgets, frame sampling,
    costs, rewards, observation text) is this class, shared by both.

    ## Action Space

    A :class:`~cvr_gym.core.spaces.ToolCallSpace`. ``step`` accepts a ``ToolCall`` (or a list:
    several calls in one action run in order), ``{"name", "arguments"}`` dicts, OpenAI tool-call
    dicts, and text: bare JSON, ``<tool_call>{...}</tool_call>`` blocks with reasoning around
    them, or AgentCVR's ``{"action", "thought", "params"}`` format. The tools:

    - ``observe(targets=[{video, start, end, num_frames}], focus)``: ``num_frames`` timestamps are
      sampled uniformly (bin centres) in each clamped window; evidence visible at those instants is
      returned, most relevant to ``focus`` first, at most ``max_evidence_per_target`` per target.
    - ``listen(video, start, end, focus)``: speech and sounds overlapping the window.
    - ``answer(answer)``: ends the episode; the answer is scored by the task's answer type.

    ``video`` is the 1-based index shown in the prompt. The tools as OpenAI function schemas are
    ``env.unwrapped.tools`` and a ready system prompt is ``env.unwrapped.system_prompt``.

    ## Observation Space

    :class:`~cvr_gym.core.spaces.UnicodeText` of at most 65,536 characters. The first observation
    is the prompt (question, options, answer format, the videos with durations, fps and audio,
    the budget). Each step returns the results of its tool calls (evidence lines with times) and
    a status line with the steps and frames used.

    ## Rewards

    A rubric of named components (see :class:`~cvr_gym.core.rewards.RewardConfig`), each reported
    in ``info["reward_components"]``: ``outcome`` (the answer's score in [0, 1]), ``format`` (-w per
    invalid action), ``cost`` (-w times the share of the frame budget spent this step) and an
    optional ``grounding`` bonus (share of evidence spans looked at).

    ## Starting State

    ``reset(seed, options)`` picks a task: ``options={"task_id": ...}`` or ``{"task_index": ...}``
    selects one; ``{"group_id": ...}`` makes every reset with that id start identically (same task,
    same perception-noise stream), for GRPO groups; otherwise a task is drawn with the env's
    ``np_random``.

    ## Episode End

    - Termination: the agent calls ``answer`` (``info["termination_reason"] == "answer"``), or an
      invalid action under ``invalid_action="terminate"`` (``"invalid_action"``).
    - Truncation: ``max_steps`` steps taken (``"max_steps"``; ``gym.make(..., max_episode_steps=n)``
      lowers ``max_steps`` to ``n`` and the prompt says so), or ``observe`` called when the frame
      budget is spent (``"frame_budget"``).

    ## Info

    ``task_id``, ``family``, ``step``, ``tool_calls`` (the parsed calls as dicts), ``parse_error``,
    ``call_costs`` (frames, visual tokens, audio seconds, modelled latency per call), ``totals``
    (running sums), ``reward_components``, ``episode_reward_components``, ``termination_reason``,
    ``score`` (the answer's score at ``answer``, 0.0 on every other step: info keeps the
    same keys and types every step, so vector envs can stack it), ``evidence`` (the records
    returned this step), ``looks`` (where this step looked: per observe target the video, clamped
    window and sampled frame ``times``, plus ``decoded_times`` and optional ``thumbnails`` from
    perceivers that decode frames; per listen the video and window; ``call`` is the call's
    position in the action) and
    ``action_context`` (video count, durations, answer type: pass it to
    ``action_space.sample(mask=...)`` for calls that fit the task). The reset info also holds
    ``task``: the question, options, answer type and videos as structured data for programmatic
    agents (the same facts the prompt states).

    ## Arguments

    - ``suite``: bundled suite name, path, or a loaded :class:`~cvr_gym.core.suites.Suite`.
    - ``split``: ``"train"``, ``"val"``, ``"test"`` or ``None`` (all).
    - ``families``: keep only these task families.
    - ``tasks``: a list of :class:`~cvr_gym.core.tasks.Task` to use instead of a suite, with
      ``data_root`` the folder their video paths are relative to.
    - ``perceiver``: what answers tool calls (default: the script perceiver).
    - ``max_steps``: steps per episode (default 12).
    - ``frame_budget``: frames per episode (default 256).
    - ``max_frames_per_target``, ``max_targets``, ``max_videos``, ``max_duration``: action bounds
      (``max_videos`` defaults to 4 or the most videos a task of the suite has, e.g. AgentCVR's
      sort tasks with 6 segment videos; ``max_duration`` to 1800 s or the longest video).
    - ``max_frames_per_call``: frames one observe may ask for over all its targets (AgentCVR's
      prompts allow 128); ``None`` for no limit beyond the per-target one.
    - ``max_visual_tokens_per_call``: a larger observe is shrunk to fit (frames and resize
      together, as EVA does); ``None`` for no cap.
    - ``prompt_style``: ``"cvr_gym"`` (default), ``"agentcvr"`` (AgentCVR's JSON user payload and
      action format) or ``"eva"`` (EVA's ``Video Length`` prompt, frame_select and ``<answer>``).
      ``preset="agentcvr"|"eva"`` in ``gym.make`` sets this with the upstream limits
      (:mod:`cvr_gym.core.presets`).
    - ``max_evidence_per_target``: evidence lines returned per observe target or listen (default 12).
    - ``reward``: :class:`RewardConfig` or a dict of weights.
    - ``scoring``: :class:`~cvr_gym.core.scoring.ScoringConfig` (partial credit, Kendall tau, ...),
      or ``"crossvid"`` for CrossVid's official per-answer scores (``"lenient"``, the default,
      reads answers generously for training).
    - ``cost_model``: :class:`~cvr_gym.core.costs.CostModel`.
    - ``invalid_action``: ``"feedback"`` (error observation and format penalty; default),
      ``"terminate"`` (end the episode), or ``"retry"`` (the first ``max_retries`` invalid actions
      cost neither a step nor a penalty; after that, as ``"feedback"``).
    - ``render_mode``: ``"ansi"`` returns the episode transcript as text.
    - ``privileged_info``: add the gold ``evidence_spans`` to the reset info (for oracle agents
      and analysis; never shown in observations).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        suite: str | Suite = "default",
        split: str | None = "train",
        families: Iterable[str] | None = None,
        tasks: Sequence[Task] | None = None,
        data_root: str | Path | None = None,
        perceiver: Perceiver | None = None,
        max_steps: int = 12,
        frame_budget: int = 256,
        max_frames_per_target: int = 64,
        max_frames_per_call: int | None = None,
        max_targets: int = 4,
        max_videos: int | None = None,
        max_duration: float | None = None,
        max_evidence_per_target: int = 12,
        reward: RewardConfig | dict | None = None,
        scoring: ScoringConfig | str | dict | None = None,
        cost_model: CostModel | None = None,
        max_visual_tokens_per_call: int | None = None,
        prompt_style: str = "cvr_gym",
        invalid_action: InvalidActionPolicy = "feedback",
        max_retries: int = 2,
        render_mode: str | None = None,
        privileged_info: bool = False,
    ):
        from cvr_gym.envs.script_perceiver import ScriptPerceiver

        if tasks is not None:
            self.suite = Suite("custom", tuple(tasks), Path(data_root or ".").resolve())
        else:
            self.suite = suite if isinstance(suite, Suite) else load_suite(suite, split=split)
        self.suite = self.suite.filter(families)
        if len(self.suite) == 0:
            raise ValueError("the env has no tasks (empty suite or no task of the requested families)")
        if invalid_action not in ("feedback", "terminate", "retry"):
            raise ValueError(f"invalid_action must be feedback, terminate or retry, got {invalid_action!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        if max_steps < 1 or frame_budget < 1:
            raise ValueError("max_steps and frame_budget must be positive")
        if isinstance(max_evidence_per_target, bool) or not isinstance(max_evidence_per_target, (int, np.integer)) \
                or max_evidence_per_target < 1:
            raise ValueError(f"max_evidence_per_target must be a positive int, got {max_evidence_per_target!r}")
        self.perceiver: Perceiver = perceiver if perceiver is not None else ScriptPerceiver()
        self.max_steps = self._configured_max_steps = int(max_steps)
        self.max_frames_per_call = None if max_frames_per_call is None else int(max_frames_per_call)
        self.max_visual_tokens_per_call = None if max_visual_tokens_per_call is None else int(max_visual_tokens_per_call)
        if prompt_style not in PROMPT_STYLES:
            raise ValueError(f"prompt_style must be one of {PROMPT_STYLES}, got {prompt_style!r}")
        self.prompt_style = prompt_style
        self.frame_budget = int(frame_budget)
        self.max_evidence_per_target = int(max_evidence_per_target)
        self.reward_config = RewardConfig.from_any(reward)
        self.scoring = ScoringConfig.from_any(scoring)
        self.cost_model = cost_model or CostModel()
        self.invalid_action = invalid_action
        self.max_retries = int(max_retries)
        self.render_mode = render_mode
        self.privileged_info = bool(privileged_info)

        if max_videos is None:
            max_videos = min(MAX_VIDEO_INDEX, max([4, *(t.num_videos for t in self.suite)]))
        if max_duration is None:
            max_duration = min(MAX_SECONDS, max([1800.0, *(v.duration for t in self.suite for v in t.videos)]))
        self.action_space = ToolCallSpace(max_videos=max_videos, max_duration=max_duration,
                                          max_frames_per_target=max_frames_per_target, max_targets=max_targets)
        self.observation_space = UnicodeText(OBS_MAX_CHARS)
        self.tools = tool_schemas(self.action_space)
        self.system_prompt = self._system_prompt()
        self.task: Task | None = None
        self._done = True
        self._transcript: list[str] = []
        #: The last step's tool results (call, evidence, notes, cost), for multi-agent memory.
        self.last_results: list[ToolResult] = []

    def limit_steps(self, limit: int) -> None:
        """Lower the step limit to ``limit`` (the ``TimeLimit`` around the env); from the next reset
        the prompt, status line and ``termination_reason`` state it."""
        self.max_steps = max(1, min(self._configured_max_steps, int(limit)))
        self.system_prompt = self._system_prompt()

    def _system_prompt(self) -> str:
        if self.prompt_style == "agentcvr":
            return agentcvr_system_prompt(self.max_steps,
                                          self.max_frames_per_call or self.action_space.max_frames_per_target)
        if self.prompt_style == "eva":
            return eva_system_prompt(self.max_steps)
        return system_prompt(self.action_space, max_steps=self.max_steps, frame_budget=self.frame_budget)

    @property
    def limits(self) -> Limits:
        """The budget and per-call bounds of an episode (also in the reset info as ``"limits"``)."""
        space = self.action_space
        return Limits(max_steps=self.max_steps, frame_budget=self.frame_budget,
                      max_frames_per_target=space.max_frames_per_target, max_targets=space.max_targets,
                      max_videos=space.max_videos)

    # -- episode start ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        self._done = True  # a reset that fails below leaves no episode to step
        options = _check_options(options)
        group_id = options.get("group_id")
        if "task_id" in options:
            index = self.suite.index_of(str(options["task_id"]))
        elif "task_index" in options:
            index = options["task_index"]
            if not 0 <= index < len(self.suite):
                raise IndexError(f"task_index {index} is outside 0..{len(self.suite) - 1}")
        elif group_id is not None:
            index = _stable_int(group_id) % len(self.suite)
        else:
            index = int(self.np_random.integers(len(self.suite)))
        task = self.suite[index]
        if task.num_videos > self.action_space.max_videos:
            raise ValueError(f"task {task.id} has {task.num_videos} videos; the env allows {self.action_space.max_videos}")
        self.perceiver.load_task(task, self.suite)
        self.task = task
        # Perception noise draws from an episode stream; a group id pins it so rollouts agree.
        self._episode_rng = (np.random.default_rng(_stable_int(group_id)) if group_id is not None
                             else np.random.default_rng(self.np_random.integers(2**63)))
        self._totals = CostTotals()
        self._episode_components = dict.fromkeys(COMPONENTS, 0.0)
        self._retries_left = self.max_retries if self.invalid_action == "retry" else 0
        self._frame_times: dict[int, list[np.ndarray]] = {}
        self._listened: list[tuple[int, float, float]] = []
        self._looks: list[dict[str, Any]] = []
        self._done = False
        self._action_context = {
            "num_videos": task.num_videos,
            "durations": [v.duration for v in task.videos],
            "has_audio": [v.has_audio for v in task.videos],
            "answer_type": task.answer_type,
            "num_options": len(task.options),
        }
        if self.prompt_style == "agentcvr":
            obs = agentcvr_prompt(task)
        elif self.prompt_style == "eva":
            obs = eva_prompt(task, self._short_sides(task))
        else:
            obs = format_prompt(task, self.max_steps, self.frame_budget)
        self._transcript = [obs]
        self.last_results = []
        info = {"task_id": task.id, "family": task.family, "step": 0, "group_id": group_id,
                "action_context": self._context(), "totals": self._totals.to_dict(),
                "limits": self.limits.to_dict(),
                "task": {"question": task.question, "options": list(task.options),
                         "answer_type": task.answer_type,
                         # 0: the answer names no video (a stable int type for vector-env info stacking)
                         "answer_video": task.answer_video or 0,
                         "videos": [{"index": v.index, "duration": v.duration, "fps": v.fps,
                                     "has_audio": v.has_audio} for v in task.videos]}}
        if self.privileged_info:
            info["evidence_spans"] = [s.model_dump() for s in task.evidence]
        return obs, info

    # -- one step -----------------------------------------------------------------------------
    def step(self, action: Any) -> tuple[str, float, bool, bool, dict]:
        if self._done or self.task is None:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        try:
            calls, parse_notes = parse_action_notes(action)
            resolved = [resolve_call(c, self.task) for c in calls]
            calls = [c for c, _ in resolved]
            parse_notes += [n for _, notes in resolved for n in notes]
            if self.max_visual_tokens_per_call is not None:
                fitted = [fit_call(c, self.cost_model.tokens_per_frame, self.max_visual_tokens_per_call) for c in calls]
                calls = [c for c, _ in fitted]
                parse_notes += [n for _, notes in fitted for n in notes]
            problems = [p for c in calls for p in self.action_space.violations(c)]
            if self.max_frames_per_call is not None:
                problems += [f"observe asks for {c.frames} frames; at most {self.max_frames_per_call} per call"
                             for c in calls if c.frames > self.max_frames_per_call]
            if problems:
                raise ActionParseError("; ".join(problems))
        except ActionParseError as err:
            return self._invalid(str(err))

        self._totals.steps += 1
        self._looks = []
        results: list[ToolResult] = []
        score = 0.0  # a float on every step, so vector envs can stack info (0.0 until answered)
        outcome = grounding = 0.0
        reason = None
        frames_before = self._totals.frames
        tokens_before = self._totals.visual_tokens
        for n, call in enumerate(calls):
            self._call_position = n
            if call.name == "answer":
                result = score_answer(self.task, call.arguments.answer, self.scoring)
                score = outcome = result.score
                grounding = self._grounding()
                tr = ToolResult(call, f"answer: {_short(call.arguments.answer)}")
                if result.error:
                    tr.notes.append(f"the answer could not be read: {result.error}")
                if n < len(calls) - 1:
                    tr.notes.append(f"{len(calls) - n - 1} call(s) after answer were ignored")
                results.append(tr)
                reason = "answer"
                break
            if call.name == "observe":
                if self._totals.frames >= self.frame_budget:
                    results.append(ToolResult(call, "observe", error="the frame budget is spent"))
                    reason = "frame_budget"
                    break
                results.extend(self._observe(call))
            else:
                results.append(self._listen(call))

        spent = (self._totals.frames - frames_before) / self.frame_budget
        if self.reward_config.cost_unit == "visual_tokens":
            spent = (self._totals.visual_tokens - tokens_before) / (self.frame_budget * self.cost_model.tokens_per_frame)
        components = self.reward_config.weigh(outcome=outcome, spent_share=spent, grounding=grounding)
        terminated = reason == "answer"
        truncated = reason == "frame_budget"
        if not terminated and not truncated and self._totals.steps >= self.max_steps:
            truncated, reason = True, "max_steps"
        status = format_status(self._totals.steps, self.max_steps, self._totals.frames, self.frame_budget)
        obs = format_step(results, status)
        if parse_notes:
            obs = "\n".join(f"Note: {n}." for n in parse_notes) + "\n" + obs
        return self._finish(obs, components, terminated, truncated, reason,
                            calls=calls, results=results, score=score)

    def _invalid(self, error: str) -> tuple[str, float, bool, bool, dict]:
        self._totals.invalid_actions += 1
        self._looks = []
        if self._retries_left > 0:
            self._retries_left -= 1
            components = self.reward_config.weigh()
            status = f"Retry allowed ({self._retries_left} left); this did not use a step."
            obs = format_step([], status, error=error)
            return self._finish(obs, components, False, False, None, parse_error=error)
        self._totals.steps += 1
        components = self.reward_config.weigh(invalid=1)
        terminated = self.invalid_action == "terminate"
        reason = "invalid_action" if terminated else None
        truncated = not terminated and self._totals.steps >= self.max_steps
        if truncated:
            reason = "max_steps"
        status = format_status(self._totals.steps, self.max_steps, self._totals.frames, self.frame_budget)
        obs = format_step([], status, error=error)
        return self._finish(obs, components, terminated, truncated, reason, parse_error=error)

    def _finish(self, obs: str, components: dict[str, float], terminated: bool, truncated: bool,
                reason: str | None, calls: Sequence[ToolCall] = (),
                results: Sequence[ToolResult] = (), score: float = 0.0,
                parse_error: str | None = None) -> tuple[str, float, bool, bool, dict]:
        if len(obs) > OBS_MAX_CHARS:
            obs = obs[: OBS_MAX_CHARS - 20] + "\n[... cut ...]"
        for k, v in components.items():
            self._episode_components[k] += v
        self._done = terminated or truncated
        self.last_results = list(results)
        tool_calls = [c.to_dict() for c in calls]
        if self.render_mode == "ansi":
            self._transcript.append(f">>> {_short(tool_calls) if calls else '(invalid action)'}\n{obs}")
        info = {
            "task_id": self.task.id,
            "family": self.task.family,
            "step": self._totals.steps,
            "tool_calls": tool_calls,
            "parse_error": parse_error,
            "call_costs": [r.cost.to_dict() for r in results if r.cost is not None],
            "totals": self._totals.to_dict(),
            "reward_components": components,
            "episode_reward_components": dict(self._episode_components),
            "termination_reason": reason,
            "score": float(score),
            "evidence": [ev for r in results for ev in r.evidence],
            "looks": self._looks,
            "action_context": self._context(),
        }
        if self.render_mode == "ansi" and self._done:
            info["transcript"] = self.render()
        return obs, float(sum(components.values())), terminated, truncated, info

    # -- tools --------------------------------------------------------------------------------
    def _observe(self, call: ToolCall) -> list[ToolResult]:
        args: ObserveArgs = call.arguments
        remaining = self.frame_budget - self._totals.frames
        results = []
        for target in args.targets:
            result, frames = self._observe_target(call, target, args.focus, remaining, args.resize)
            remaining -= frames
            results.append(result)
        cost = self.cost_model.observe(self.frame_budget - self._totals.frames - remaining,
                                       resize=1.0 if args.resize is None else args.resize)
        self._totals.add(cost)
        results[0].cost = cost
        return results

    def _observe_target(self, call: ToolCall, target: Target, focus: str, remaining: int,
                        resize: float | None = None) -> tuple[ToolResult, int]:
        """One target of an observe call: clamp, clip to the budget, sample times, perceive."""
        task = self.task
        if target.video > task.num_videos:
            return ToolResult(call, f"observe video {target.video}",
                              error=f"there is no video {target.video}; videos are 1..{task.num_videos}"), 0
        video = task.videos[target.video - 1]
        if remaining <= 0:
            return ToolResult(call, f"observe video {video.index}", error="the frame budget is spent"), 0
        if target.start >= video.duration:
            return ToolResult(call, f"observe video {video.index} [{target.start:.1f}-{target.end:.1f} s]",
                              error=f"the window starts after video {video.index} ends ({video.duration:.1f} s)"), 0
        notes = []
        start, end = target.start, min(video.duration, target.end)
        if end != target.end:
            notes.append(f"window clamped to {start:.1f}-{end:.1f} s (video length {video.duration:.1f} s)")
        frames = target.num_frames
        if frames > remaining:
            notes.append(f"only {remaining} frames were left in the budget, not {frames}")
            frames = remaining
        times = start + _bin_centres(frames) * ((end - start) / frames)
        if self.reward_config.grounding:  # only the grounding term reads where the agent looked
            self._frame_times.setdefault(video.index, []).append(times)
        header = f"observe video {video.index} [{start:.1f}-{end:.1f} s], {frames} frames"
        if resize is not None and resize != 1.0:
            header += f", resized x{resize:g}"
        if focus:
            header += f', focus "{_short(focus, 60)}"'
        look = {"tool": "observe", "call": self._call_position, "video": video.index, "start": start, "end": end,
                "times": times.tolist()}
        self._looks.append(look)
        try:
            if resize is not None and resize != 1.0 and getattr(self.perceiver, "supports_resize", False):
                evidence = self.perceiver.observe(task, video.index, times, focus, self._episode_rng, resize=resize)
            else:
                evidence = self.perceiver.observe(task, video.index, times, focus, self._episode_rng)
        except PerceptionError as err:
            return ToolResult(call, header, notes=notes, error=f"the visual agent failed: {err}"), frames
        look.update(getattr(self.perceiver, "last_frames", None) or {})  # decoded times, thumbnails
        kept, dropped = rank_by_focus(evidence, focus, self.max_evidence_per_target)
        if dropped:
            notes.append(f"{dropped} more item(s) not shown; narrow the window or the focus")
        return ToolResult(call, header, kept, notes), frames

    def _listen(self, call: ToolCall) -> ToolResult:
        args: ListenArgs = call.arguments
        shown_end = "end" if args.end is None else f"{args.end:.1f}"
        header = f"listen video {args.video} [{args.start:.1f}-{shown_end} s]"
        if args.video > self.task.num_videos:
            return ToolResult(call, header, error=f"there is no video {args.video}; videos are 1..{self.task.num_videos}",
                              cost=self._charge_listen(0.0))
        video = self.task.videos[args.video - 1]
        if not video.has_audio:
            return ToolResult(call, header, error=f"video {video.index} has no audio track", cost=self._charge_listen(0.0))
        start, end = max(0.0, args.start), min(video.duration, video.duration if args.end is None else args.end)
        if start >= end:
            return ToolResult(call, header, error=f"the window starts after video {video.index} ends ({video.duration:.1f} s)",
                              cost=self._charge_listen(0.0))
        notes = []
        if (start, end) != (args.start, args.end):
            notes.append(f"window clamped to {start:.1f}-{end:.1f} s (video length {video.duration:.1f} s)")
        header = f"listen video {video.index} [{start:.1f}-{end:.1f} s]"
        cost = self._charge_listen(end - start)
        if self.reward_config.grounding:
            self._listened.append((video.index, start, end))
        self._looks.append({"tool": "listen", "call": self._call_position, "video": video.index, "start": start, "end": end})
        try:
            evidence = self.perceiver.listen(self.task, video.index, start, end, args.focus, self._episode_rng)
        except PerceptionError as err:
            return ToolResult(call, header, notes=notes, error=f"the audio agent failed: {err}", cost=cost)
        kept, dropped = rank_by_focus(evidence, args.focus, self.max_evidence_per_target)
        if dropped:
            notes.append(f"{dropped} more item(s) not shown; narrow the window or the focus")
        return ToolResult(call, header, kept, notes, cost=cost)

    def _short_sides(self, task: Task) -> list[int | None]:
        """Each video's shorter frame side when the perceiver knows it (real files), for EVA's prompt."""
        media_info = getattr(self.perceiver, "media_info", None)
        if media_info is None:
            return []
        try:
            return [min(info.width, info.height) or None for info in (media_info(v.index) for v in task.videos)]
        except Exception:  # a perceiver that cannot tell: the prompt goes without the resolution
            return []

    def _context(self) -> dict[str, Any]:
        ctx = dict(self._action_context)
        ctx["durations"] = list(ctx["durations"])
        ctx["has_audio"] = list(ctx["has_audio"])
        return ctx

    def _charge_listen(self, seconds: float) -> CallCost:
        cost = self.cost_model.listen(seconds)
        self._totals.add(cost)
        return cost

    def _grounding(self) -> float:
        if not self.reward_config.grounding:
            return 0.0
        spans = [(s.video, s.start, s.end) for s in self.task.evidence]
        frame_times = {v: np.concatenate(ts).tolist() for v, ts in self._frame_times.items()}
        return span_coverage(spans, self._listened, frame_times)

    # -- misc ---------------------------------------------------------------------------------
    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(self._transcript)

    def close(self) -> None:
        self.perceiver.close()
        super().close()


RESET_OPTIONS = ("task_id", "task_index", "group_id")
PROMPT_STYLES = ("cvr_gym", "agentcvr", "eva")


def _check_options(options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"reset options must be a dict, got {type(options).__name__}")
    unknown = set(options) - set(RESET_OPTIONS)
    if unknown:
        raise ValueError(f"unknown reset options {sorted(map(str, unknown))}; known: {list(RESET_OPTIONS)}")
    index = options.get("task_index")
    if index is not None and (isinstance(index, bool) or not isinstance(index, (int, np.integer))):
        raise TypeError(f"task_index must be an int, got {index!r}")
    return {k: (int(v) if k == "task_index" else v) for k, v in options.items()}


@lru_cache(maxsize=512)
def _bin_centres(n: int) -> np.ndarray:
    """0.5, 1.5, ... n - 0.5: frame times sit at the centres of n equal bins of the window."""
    centres = np.arange(n) + 0.5
    centres.flags.writeable = False
    return centres


def _stable_int(value: Any) -> int:
    """A process-independent integer for any value (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(repr(value).encode(), digest_size=8).digest(), "little")


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
