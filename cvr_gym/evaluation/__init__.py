"""Evaluation harness: run agents over a suite, write one JSON line per episode, summarise, plot.

- :mod:`~cvr_gym.evaluation.episodes`: which task and seeds each episode uses.
- :mod:`~cvr_gym.evaluation.runner`: run episodes sequentially or through a Gymnasium vector env.
- :mod:`~cvr_gym.evaluation.records`: the per-episode result record.
- :mod:`~cvr_gym.evaluation.results`: JSONL results files (flushed per episode, resumable).
- :mod:`~cvr_gym.evaluation.summary`: per-family tables; :mod:`~cvr_gym.evaluation.plots`: score vs cost.
- :mod:`~cvr_gym.evaluation.typed_calls`: the short tool-call syntax of ``cvr-gym play``.
"""

from cvr_gym.evaluation.episodes import EpisodeSpec, plan_episodes
from cvr_gym.evaluation.results import ResultsWriter, read_results
from cvr_gym.evaluation.runner import EvalConfig, run_episodes
from cvr_gym.evaluation.summary import summarise

__all__ = ["EpisodeSpec", "EvalConfig", "ResultsWriter", "plan_episodes", "read_results", "run_episodes", "summarise"]
