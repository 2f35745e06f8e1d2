"""Results files: one JSON record per line, appended and flushed per episode, readable after a crash."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from filelock import FileLock, Timeout

from cvr_gym.evaluation.records import COST_KEYS, record_line


class ResultsFileBusy(ValueError):
    """Another run (any process) is writing the same results file."""


def record_key(record: dict[str, Any]) -> tuple[int, str, int]:
    """(episode index, task id, seed): what identifies an episode within a run."""
    return (int(record["episode"]), str(record["task_id"]), int(record["seed"]))


def _unique_key(record: dict[str, Any]) -> tuple[Any, ...]:
    """An episode of a given run: files may hold several runs (``cat a.jsonl b.jsonl``)."""
    return (record.get("agent"), record.get("env_id"), *record_key(record))


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _check_fields(record: dict[str, Any]) -> None:
    """Raise ``TypeError`` when a field that summaries read has a type no record writes."""
    score = record.get("score")
    if score is not None and not _number(score):
        raise TypeError(f"score is {score!r}, not a finite number")
    costs = record.get("costs")
    if costs is not None and not (isinstance(costs, dict) and all(
            costs.get(k) is None or _number(costs[k]) for k in COST_KEYS)):
        raise TypeError(f"costs is not an object with numbers for {', '.join(COST_KEYS)}")
    for key in ("family", "termination_reason", "agent", "env_id"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise TypeError(f"{key} is {record[key]!r}, not a string")


def read_results(path: str | Path, strict: bool = False, skipped: list[str] | None = None,
                 check_fields: bool = True) -> list[dict[str, Any]]:
    """The records of a results file.

    Lines that are not complete JSON objects (a line cut by an interrupted write) or, with
    ``check_fields``, whose score, costs, family, termination reason, agent or env id have the
    wrong types are skipped (described in ``skipped`` when a list is given), unless ``strict``,
    which raises ``ValueError`` naming the line. Later duplicates of the same episode of the same
    run (agent, env, episode key) are dropped. Readers that cope with damaged fields themselves
    (the viewer) pass ``check_fields=False``.
    """
    records, seen = [], set()
    with Path(path).open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):  # valid JSON, but a list, number or string
                    raise TypeError(f"a JSON {type(record).__name__}, not an object")
                key = _unique_key(record)
                if check_fields:
                    _check_fields(record)
            except (ValueError, KeyError, TypeError, RecursionError) as err:
                problem = f"{path}:{lineno}: not a result record ({err})"
                if strict:
                    raise ValueError(problem) from None
                if skipped is not None:
                    skipped.append(problem)
                continue
            if key not in seen:
                seen.add(key)
                records.append(record)
    return records


class ResultsWriter:
    """Append records to a JSONL file, one line each, flushed (and fsynced) per record.

    The writer holds a lock (``PATH.lock``, via ``filelock``) until closed: a second writer on the
    same file, in this process or another, raises :class:`ResultsFileBusy` instead of
    overwriting or interleaving the first run's records.

    With ``resume=True`` the complete records already in the file are kept (a cut last line and
    duplicates are removed by rewriting the file first) and :attr:`done` holds their keys; without
    it the file is started afresh.

    Arguments:
        path: the results file.
        resume: keep and skip episodes already in the file.
        fsync: also ``os.fsync`` after each record (survives a machine crash, not only a killed run;
            flushing alone survives a killed or interrupted run).
    """

    def __init__(self, path: str | Path, resume: bool = False, fsync: bool = False):
        self.path = Path(path)
        self.fsync = fsync
        self.existing: list[dict[str, Any]] = []
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.path) + ".lock")
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise ResultsFileBusy(f"{self.path} is being written by another run (it holds {self._lock.lock_file}); "
                                  f"wait for it to finish or use another --out") from None
        try:
            self._open(resume)
        except BaseException:
            self._lock.release()
            raise

    def _open(self, resume: bool) -> None:
        if resume and self.path.is_file():
            self.existing = read_results(self.path)
            self._rewrite(self.existing)
        self.done: set[tuple[int, str, int]] = {record_key(r) for r in self.existing}
        self._fh: TextIO = self.path.open("a" if resume else "w", encoding="utf-8")

    def _rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(record_line(r) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def write(self, record: dict[str, Any]) -> None:
        key = record_key(record)
        if key in self.done:
            return
        self._fh.write(record_line(record) + "\n")
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.done.add(key)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        if self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> "ResultsWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
