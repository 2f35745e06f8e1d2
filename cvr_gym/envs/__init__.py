"""Env classes and factories for ``CVRSim-v0`` and ``CVRReal-v0``."""

import warnings

from cvr_gym.core.presets import apply_preset
from cvr_gym.envs.cvr_env import CVREnv
from cvr_gym.envs.perceiver import PerceptionError, Perceiver
from cvr_gym.envs.script_perceiver import PerceptionNoise, ScriptPerceiver


def make_sim_env(perception_noise: PerceptionNoise | dict | None = None, preset: str | None = None,
                 **kwargs) -> CVREnv:
    """``CVRSim-v0``: the env with the script perceiver. ``perception_noise`` turns noise on;
    ``preset="agentcvr"|"eva"`` sets an upstream system's limits and formats
    (:mod:`cvr_gym.core.presets`), under any keyword given explicitly."""
    kwargs = apply_preset(preset, kwargs)
    if isinstance(perception_noise, dict):
        perception_noise = PerceptionNoise(**perception_noise)
    kwargs.setdefault("perceiver", ScriptPerceiver(perception_noise))
    env = CVREnv(**kwargs)
    if isinstance(env.perceiver, ScriptPerceiver):
        warn_if_scriptless(env)
    return env


def warn_if_scriptless(env: CVREnv) -> None:
    """Warn when tasks have no scripts: the simulator would return nothing for them (imported
    CrossVid tasks have real videos only; run them in CVRReal-v0 or build scripts first)."""
    bare = [t.id for t in env.suite if not any(v.script for v in t.videos)]
    if bare:
        warnings.warn(f"{len(bare)} of {len(env.suite)} tasks have no scripts (e.g. {bare[0]!r}); the simulator "
                      "returns nothing for them. Use CVRReal-v0 on their videos, or make scripts with "
                      "`cvr-gym build-scripts`.", UserWarning, stacklevel=3)


def __getattr__(name: str):
    # The real env pulls in PyAV and model runtimes: import it only when asked for.
    if name in ("make_real_env", "VideoPerceiver"):
        from cvr_gym.envs import real, video_perceiver

        return {"make_real_env": real.make_real_env, "VideoPerceiver": video_perceiver.VideoPerceiver}[name]
    raise AttributeError(name)


__all__ = ["CVREnv", "Perceiver", "PerceptionError", "PerceptionNoise", "ScriptPerceiver", "make_sim_env"]
