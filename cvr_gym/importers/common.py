"""Shared pieces of the importers: source records, per-record problems, the import report.

An importer reads *records* (one source task each) from files, converts each one on its own
and collects what went wrong per record, so one bad record never stops the rest and nothing
is dropped without a reason in the :class:`ImportReport`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cvr_gym.core.tasks import Task

#: Files the AgentCVR generators write next to their tasks that are logs, not tasks.
LOG_FILE_NAMES = frozenset({"generation_errors.json", "failed_tasks.json"})


class RecordError(ValueError):
    """A record cannot be mapped. ``code`` groups like problems in the summary."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SourceRecord:
    """One source task: its parsed JSON ``data`` and ``where`` it came from (file, index, line)."""

    data: Any
    where: str
    path: Path


@dataclass(frozen=True)
class Problem:
    """Something about one record: why it was skipped, or a warning about how it was mapped."""

    where: str
    kind: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Plain JSON form (for ``--report``)."""
        return {"where": self.where, "kind": self.kind, "code": self.code, "message": self.message}


@dataclass
class Converted:
    """A converter's result: the task, its source kind (generator type or CrossVid task), warnings."""

    task: Task
    kind: str
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import produced: the tasks, skipped records (with reasons), warnings and notes."""

    source: str
    tasks: list[Task] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        """Number of tasks imported."""
        return len(self.tasks)

    def per_kind(self) -> dict[str, tuple[str, int, int]]:
        """``kind -> (family, imported, skipped)`` for the summary table."""
        families: dict[str, set[str]] = {}
        done = Counter(self.kinds)
        for kind, task in zip(self.kinds, self.tasks):
            families.setdefault(kind, set()).add(task.family)
        failed = Counter(p.kind for p in self.skipped)
        rows = {}
        for kind in sorted(set(done) | set(failed)):
            rows[kind] = ("/".join(sorted(families.get(kind, ()))) or "-", done[kind], failed[kind])
        return rows

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form of the whole report (for ``--report``)."""
        return {
            "source": self.source,
            "imported": self.imported,
            "skipped": [p.to_dict() for p in self.skipped],
            "warnings": [p.to_dict() for p in self.warnings],
            "notes": list(self.notes),
            "per_kind": {k: {"family": f, "imported": i, "skipped": s} for k, (f, i, s) in self.per_kind().items()},
        }


# -- reading records ---------------------------------------------------------------------------

def load_records(src: str | Path, report: ImportReport, patterns: Iterable[str] = ("*.json", "*.jsonl"),
                 recursive: bool = True, accept: Callable[[Path], str | None] = lambda p: None) -> list[SourceRecord]:
    """Read every record under ``src`` (a JSON file, a JSONL file or a folder of them).

    A JSON file holds one record (an object) or a list of records; a JSONL file one per line.
    In a folder, ``accept(path)`` may return a reason not to read a file (it is noted).
    Files that cannot be read are reported as skipped; generator error logs are noted.
    """
    src = Path(src)
    if not src.exists():
        raise FileNotFoundError(f"no such file or folder: {src}")
    patterns = tuple(patterns)
    if src.is_dir():
        found = (src.rglob(pat) if recursive else src.glob(pat) for pat in patterns)
        files = sorted({p for group in found for p in group if p.is_file()})
        base = src
    else:
        files, base = [src], src.parent
    records: list[SourceRecord] = []
    for path in files:
        rel = path.relative_to(base).as_posix()
        if path.name in LOG_FILE_NAMES:
            report.notes.append(f"{rel}: a generator error log, not a task file; not read")
            continue
        reason = accept(path) if src.is_dir() else None
        if reason:
            report.notes.append(f"{rel}: {reason}; not read")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            report.skipped.append(Problem(rel, "?", "unreadable", f"cannot read the file: {err}"))
            continue
        if path.suffix == ".jsonl":
            for lineno, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                where = f"{rel}:{lineno}"
                try:
                    records.append(SourceRecord(json.loads(line), where, path))
                except json.JSONDecodeError as err:
                    report.skipped.append(Problem(where, "?", "bad-json", f"not valid JSON: {err}"))
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            report.skipped.append(Problem(rel, "?", "bad-json", f"not valid JSON: {err}"))
            continue
        if isinstance(data, list):
            records.extend(SourceRecord(item, f"{rel}[{i}]", path) for i, item in enumerate(data))
        else:
            records.append(SourceRecord(data, rel, path))
    if not files:
        report.notes.append(f"{src}: no {' or '.join(patterns)} files found")
    return records


def convert_all(records: Iterable[SourceRecord], convert: Callable[[SourceRecord], Converted],
                report: ImportReport, kind_of: Callable[[SourceRecord], str] = lambda r: "?") -> ImportReport:
    """Convert each record on its own; failures and warnings go to ``report``; ids are made unique."""
    seen: Counter[str] = Counter(t.id for t in report.tasks)
    for record in records:
        try:
            result = convert(record)
        except RecordError as err:
            report.skipped.append(Problem(record.where, _safe_kind(kind_of, record), err.code, str(err)))
            continue
        except Exception as err:  # a converter bug must not stop the rest; it is reported
            report.skipped.append(Problem(record.where, _safe_kind(kind_of, record), "error",
                                          f"unexpected {type(err).__name__}: {err}"))
            continue
        task = result.task
        if seen[task.id]:
            new_id = f"{task.id}-{seen[task.id] + 1}"
            result.warnings.append(("duplicate-id", f"id {task.id!r} was already used; imported as {new_id!r}"))
            task = task.model_copy(update={"id": new_id})
        seen[task.id] += 1
        report.tasks.append(task)
        report.kinds.append(result.kind)
        report.warnings.extend(Problem(record.where, result.kind, code, msg) for code, msg in result.warnings)
    return report


def _safe_kind(kind_of: Callable[[SourceRecord], str], record: SourceRecord) -> str:
    try:
        return kind_of(record) or "?"
    except Exception:
        return "?"


# -- building tasks ----------------------------------------------------------------------------

def build_task(fields: Mapping[str, Any]) -> Task:
    """Validate a task dict, turning validation errors into a :class:`RecordError` naming the fields."""
    try:
        return Task.model_validate(dict(fields))
    except ValidationError as err:
        parts = []
        for e in err.errors(include_url=False):
            loc = ".".join(str(x) for x in e["loc"]) or "(task)"
            parts.append(f"{loc}: {e['msg']}")
        raise RecordError("the mapped task is invalid: " + "; ".join(parts), "invalid-task") from None


def need(data: Mapping[str, Any], *keys: str, what: str | None = None) -> Any:
    """The first of ``keys`` present (and not None) in ``data``, else a :class:`RecordError`."""
    if not isinstance(data, Mapping):
        raise RecordError(f"expected an object, got {type(data).__name__}", "not-an-object")
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    names = " or ".join(repr(k) for k in keys)
    raise RecordError(f"missing field {names}" + (f" ({what})" if what else ""), "missing-field")


def as_seconds(value: Any, what: str) -> float:
    """A finite, non-negative number of seconds (numbers and numeric strings)."""
    if isinstance(value, bool):
        raise RecordError(f"{what}: expected seconds, got {value!r}", "bad-time")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{what}: expected seconds, got {value!r}", "bad-time") from None
    if not math.isfinite(x) or x < 0:
        raise RecordError(f"{what}: expected non-negative seconds, got {value!r}", "bad-time")
    return x


def as_interval(value: Any, what: str) -> tuple[float, float]:
    """``[start, end]`` seconds with ``start <= end``."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise RecordError(f"{what}: expected [start, end], got {value!r}", "bad-interval")
    start, end = as_seconds(value[0], what), as_seconds(value[1], what)
    if end < start:
        raise RecordError(f"{what}: end {end} is before start {start}", "bad-interval")
    return start, end


def as_text(value: Any, what: str) -> str:
    """A non-empty string (surrounding whitespace removed)."""
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{what}: expected non-empty text, got {value!r}", "bad-text")
    return value.strip()


def fmt_s(x: float) -> str:
    """Seconds for text shown to agents: ``12`` or ``12.5``."""
    return f"{x:g}" if abs(x - round(x, 1)) < 1e-9 else f"{x:.2f}"
