"""``CVRReal-v0``: the cross-video env on real video files.

It is :class:`~cvr_gym.envs.cvr_env.CVREnv`, the simulator's class, with a
:class:`~cvr_gym.envs.video_perceiver.VideoPerceiver` answering the tool calls instead of the
script perceiver; actions, observations, rewards and episode ends are therefore identical.
"""

from __future__ import annotations

from typing import Any

from cvr_gym.core.presets import apply_preset
from cvr_gym.core.suites import Suite
from cvr_gym.envs.cvr_env import CVREnv
from cvr_gym.envs.video_perceiver import VideoPerceiver


def make_real_env(visual: Any = "offline", audio: Any = "offline",
                  visual_options: dict[str, Any] | None = None, audio_options: dict[str, Any] | None = None,
                  suite: str | Suite = "corpus", split: str | None = None,
                  perceiver_options: dict[str, Any] | None = None, preset: str | None = None,
                  **kwargs: Any) -> CVREnv:
    """Build ``CVRReal-v0``: a :class:`CVREnv` whose tools decode and perceive real videos.

    ## Description

    ``observe`` decodes the frames nearest to the sampled times with PyAV and has the visual
    backend describe them (offline default: OCR text lines, coloured objects counted per
    colour, background colour, scene changes); ``listen`` decodes the audio window and has the
    audio backend report speech and sounds (offline default: Whisper tiny.en, beeps, noise
    bursts). Every task video needs a ``path`` inside the suite's data root; ``reset`` checks
    the files and raises an error naming a missing, empty or unreadable one. A perception
    failure during a step becomes an error line in the observation, not an exception.

    ## Action Space, Observation Space, Rewards, Starting State, Episode End

    As :class:`CVREnv` (``CVRSim-v0``): the same class, spaces and tool schemas.

    ## Arguments

    - ``visual``, ``audio``: backend specs (``"offline"``, ``"hf:MODEL"``, ``"openai:URL"``) or
      backend objects; ``visual_options``/``audio_options`` are passed to them.
    - ``suite``, ``split``: the task suite (name, path or :class:`Suite`) and split.
    - ``perceiver_options``: keyword arguments for :class:`VideoPerceiver` (``max_side``,
      ``cache``, ``retries``, ...). ``perceiver=`` replaces the perceiver altogether.
    - ``preset``: ``"agentcvr"`` or ``"eva"``, an upstream system's limits and formats
      (:mod:`cvr_gym.core.presets`); explicit keywords win.
    - every other keyword goes to :class:`CVREnv` (``max_steps``, ``frame_budget``, ...).
    """
    kwargs = apply_preset(preset, kwargs)
    perceiver = kwargs.pop("perceiver", None)
    if perceiver is None:
        perceiver = VideoPerceiver(visual, audio, visual_options, audio_options, **(perceiver_options or {}))
    try:
        return CVREnv(suite=suite, split=split, perceiver=perceiver, **kwargs)
    except BaseException:
        perceiver.close()
        raise
