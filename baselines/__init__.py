"""Reference agents for cvr_gym: random, single-pass, oracle (and heuristic, checkpoint, LLM).

Make one from a spec with :func:`make_agent` (``"random"``, ``"single-pass:32"``, ``"oracle"``,
...). Every agent follows the :class:`Agent` protocol: ``reset(obs, info, seed=None)``,
``act(obs, info) -> action``, ``name``.
"""

from baselines.base import Agent, Limits, play_episode
from baselines.oracle import OracleAgent
from baselines.random_agent import RandomAgent
from baselines.registry import agent_factory, available_agents, make_agent, needs_privileged_info, parse_spec, register_agent
from baselines.single_pass import SinglePassAgent


__all__ = ["Agent", "Limits", "play_episode", "OracleAgent", "RandomAgent", "SinglePassAgent",
           "agent_factory", "available_agents", "make_agent", "needs_privileged_info", "parse_spec", "register_agent"]
