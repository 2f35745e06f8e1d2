"""One evaluation run over a results file: plan, resume, play what is left, write as it goes.

:class:`EvalRun` is what ``cvr-gym eval`` does, minus the printing::

    run = EvalRun(EvalConfig(agent="heuristic", episodes=50), out="runs/heuristic.jsonl", resume=True)
    for result in run.play():          # episodes already in the file are skipped
        ...                            # each record is written (and flushed) before it is yielded
    records = run.records               # every record of the run, in episode order
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cvr_gym.evaluation.episodes import EpisodeSpec
from cvr_gym.evaluation.results import ResultsWriter, read_results, record_key
from cvr_gym.evaluation.runner import EpisodeResult, EvalConfig, plan, run_episodes

#: Plays planned episodes and yields their results (``run_episodes``, or a team or Ray runner).
Player = Callable[[EvalConfig, Sequence[EpisodeSpec]], Iterable[EpisodeResult]]


class OtherRunsInFile(ValueError):
    """``resume`` on a results file that holds another run's records: they must not be touched."""


class EvalRun:
    """The episodes of a run, those still to play, and the records so far.

    Arguments:
        config: what to evaluate.
        out: the JSONL results file (``None``: nothing is written).
        resume: keep the episodes already in ``out`` and play only the rest; without it ``out``
            is replaced. A file holding other runs' records is refused (:class:`OtherRunsInFile`).
        label: the run's agent label in the file (default ``config.agent``; team runs name
            their team).
    """

    def __init__(self, config: EvalConfig, out: str | Path | None = None, resume: bool = False,
                 label: str | None = None):
        if resume and out is None:
            raise ValueError("resume needs a results file (out)")
        self.config = config
        self.out = None if out is None else Path(out)
        self.resume = bool(resume)
        self.label = label or config.agent
        self.episodes = plan(config)
        self.records: list[dict[str, Any]] = []
        self.todo: list[EpisodeSpec] = list(self.episodes)
        if self.resume and self.out is not None and self.out.is_file():
            existing = read_results(self.out)
            # Checked before the writer tidies the file: other runs' records stay untouched.
            other = {(r.get("agent"), r.get("env_id")) for r in existing} - {(self.label, config.env_id)}
            if other:
                raise OtherRunsInFile(f"{self.out} holds results of other runs {sorted(map(str, other))}; "
                                      f"use another --out")
            done = {record_key(r) for r in existing}
            self.todo = [ep for ep in self.episodes if ep.key not in done]

    @property
    def done_before(self) -> int:
        """Episodes already in the results file when the run started."""
        return len(self.episodes) - len(self.todo)

    def play(self, player: Player = run_episodes) -> Iterator[EpisodeResult]:
        """Play the episodes still to do, writing each record before yielding its result."""
        writer = ResultsWriter(self.out, resume=self.resume) if self.out is not None else None
        try:
            if writer is not None:
                wanted = {ep.key for ep in self.episodes}
                self.records = [r for r in writer.existing if record_key(r) in wanted]
                self.todo = [ep for ep in self.episodes if ep.key not in writer.done]  # as the writer left it
            for result in player(self.config, self.todo):
                if writer is not None:
                    writer.write(result.record)
                self.records.append(result.record)
                yield result
        finally:
            if writer is not None:
                writer.close()
            self.records.sort(key=lambda r: r["episode"])
