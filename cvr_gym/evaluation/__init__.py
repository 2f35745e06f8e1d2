"""Evaluation: the agent protocol, the episode loop, the agent registry, runs, results, comparisons.

- :mod:`~cvr_gym.evaluation.agents`: the :class:`Agent` protocol, :func:`play_episode` (the one
  episode loop) and :class:`EpisodeRun` (one episode driven a step at a time).
- :mod:`~cvr_gym.evaluation.registry`: agent specs to agents (registered names, the
  ``cvr_gym.agents`` entry-point group, ``module:factory`` import paths).
- :mod:`~cvr_gym.evaluation.episodes`: which task and seeds each episode uses.
- :mod:`~cvr_gym.evaluation.runner`: run episodes sequentially or through a Gymnasium vector env.
- :mod:`~cvr_gym.evaluation.records`: the per-episode result record.
- :mod:`~cvr_gym.evaluation.results`: JSONL results files (flushed per episode, resumable).
- :mod:`~cvr_gym.evaluation.summary`: per-family tables; :mod:`~cvr_gym.evaluation.plots`: score vs cost.
- :mod:`~cvr_gym.evaluation.compare`: the same agent in CVRSim-v0 and CVRReal-v0, step by step.
- :mod:`~cvr_gym.evaluation.typed_calls`: the short tool-call syntax of ``cvr-gym play``.
"""

from cvr_gym.core.limits import Limits
from cvr_gym.evaluation.agents import Agent, EpisodeRun, Step, play_episode
from cvr_gym.evaluation.episodes import EpisodeSpec, plan_episodes
from cvr_gym.evaluation.registry import (
    AgentSpecError, agent_factory, available_agents, make_agent, needs_privileged_info, register_agent,
)
from cvr_gym.evaluation.results import ResultsWriter, read_results
from cvr_gym.evaluation.runner import EvalConfig, run_episodes
from cvr_gym.evaluation.summary import summarise

__all__ = ["Agent", "AgentSpecError", "EpisodeRun", "EpisodeSpec", "EvalConfig", "Limits", "ResultsWriter", "Step",
           "agent_factory", "available_agents", "make_agent", "needs_privileged_info", "play_episode",
           "plan_episodes", "read_results", "register_agent", "run_episodes", "summarise"]
