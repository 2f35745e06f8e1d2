"""Reference agents for cvr_gym: random, single-pass, oracle, heuristic, checkpoint, LLM.

They are declared in the ``cvr_gym.agents`` entry-point group (``pyproject.toml``), so
``cvr_gym.evaluation.make_agent("single-pass:32")`` and ``cvr-gym eval --agent heuristic`` find
them. Every agent follows the :class:`~cvr_gym.evaluation.agents.Agent` protocol:
``reset(obs, info, seed=None)``, ``act(obs, info) -> action``, ``name``. The names below are
re-exported for convenience.
"""

from baselines.oracle import OracleAgent
from baselines.random_agent import RandomAgent
from baselines.single_pass import SinglePassAgent
from cvr_gym.core.limits import Limits
from cvr_gym.evaluation.agents import Agent, play_episode
from cvr_gym.evaluation.registry import (
    agent_factory, available_agents, make_agent, needs_privileged_info, parse_spec, register_agent,
)

__all__ = ["Agent", "Limits", "play_episode", "OracleAgent", "RandomAgent", "SinglePassAgent",
           "agent_factory", "available_agents", "make_agent", "needs_privileged_info", "parse_spec", "register_agent"]
