"""Env classes and factories for ``CVRSim-v0`` and ``CVRReal-v0``."""

from cvr_gym.envs.cvr_env import CVREnv
from cvr_gym.envs.perceiver import PerceptionError, Perceiver
from cvr_gym.envs.script_perceiver import PerceptionNoise, ScriptPerceiver


def make_sim_env(perception_noise: PerceptionNoise | dict | None = None, **kwargs) -> CVREnv:
    """``CVRSim-v0``: the env with the script perceiver. ``perception_noise`` turns noise on."""
    if isinstance(perception_noise, dict):
        perception_noise = PerceptionNoise(**perception_noise)
    kwargs.setdefault("perceiver", ScriptPerceiver(perception_noise))
    return CVREnv(**kwargs)


__all__ = ["CVREnv", "Perceiver", "PerceptionError", "PerceptionNoise", "ScriptPerceiver", "make_sim_env"]
