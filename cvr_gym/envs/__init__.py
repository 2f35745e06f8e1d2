"""Env classes and factories for ``CVRSim-v0`` and ``CVRReal-v0``."""

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
    return CVREnv(**kwargs)


def __getattr__(name: str):
    # The real env pulls in PyAV and model runtimes: import it only when asked for.
    if name in ("make_real_env", "VideoPerceiver"):
        from cvr_gym.envs import real, video_perceiver

        return {"make_real_env": real.make_real_env, "VideoPerceiver": video_perceiver.VideoPerceiver}[name]
    raise AttributeError(name)


__all__ = ["CVREnv", "Perceiver", "PerceptionError", "PerceptionNoise", "ScriptPerceiver", "make_sim_env"]
