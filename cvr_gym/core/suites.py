"""Loading task suites: JSONL files of :class:`~cvr_gym.core.tasks.Task`, validated line by line.

A suite is named either by a path to a ``.jsonl`` file or by the name of a bundled suite in the
data directory (see :func:`data_dir`). A bundled suite is a
folder ``NAME/`` holding ``train.jsonl``, ``val.jsonl``, ``test.jsonl`` (any subset).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from cvr_gym.core.tasks import Task

SPLITS = ("train", "val", "test")


class SuiteError(ValueError):
    """A task file could not be loaded. The message names the file, line, field and problem."""

    def __init__(self, path: str | Path, problems: Sequence[str] | None = None):
        if problems is None:  # ``SuiteError(str(err))``: how workers and callers rebuild one
            message = str(path)
            self.path, self.problems = message.split(": ", 1)[0], [message]
            super().__init__(message)
            return
        self.path = str(path)
        self.problems = list(problems)
        shown = "\n  ".join(self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{self.path}: {len(self.problems)} invalid line(s):\n  {shown}{more}")

    def __reduce__(self):  # async vector envs and worker pools send exceptions across processes
        return (type(self), (self.path, self.problems))


def data_dir() -> Path:
    """The folder holding bundled suites and videos.

    ``$CVR_GYM_DATA`` when set; else ``cvr_gym/envs_data`` inside an installed wheel; else the
    repository's top-level ``envs_data/`` (a source checkout or an editable install).
    """
    override = os.environ.get("CVR_GYM_DATA")
    if override:
        return Path(override)
    package = Path(__file__).resolve().parents[1]
    installed = package / "envs_data"
    return installed if installed.is_dir() else package.parent / "envs_data"


def bundled_suites() -> list[str]:
    root = data_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.jsonl")))


@dataclass(frozen=True)
class Suite:
    """An immutable list of tasks plus the data root their video paths resolve against."""

    name: str
    tasks: tuple[Task, ...]
    data_root: Path
    sources: tuple[Path, ...] = ()
    _by_id: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({t.id: i for i, t in enumerate(self.tasks)})
        problems = escaping_paths(self.tasks, self.data_root)
        if problems:  # the simulator must refuse what the real env would refuse
            raise SuiteError(self.sources[0] if self.sources else self.data_root, problems)

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __getitem__(self, index: int) -> Task:
        return self.tasks[index]

    def index_of(self, task_id: str) -> int:
        try:
            return self._by_id[task_id]
        except KeyError:
            raise KeyError(f"task {task_id!r} is not in suite {self.name!r}") from None

    @property
    def families(self) -> list[str]:
        return sorted({t.family for t in self.tasks})

    def filter(self, families: Iterable[str] | None = None) -> "Suite":
        if not families:
            return self
        wanted = set(families)
        unknown = wanted - set(self.families)
        if unknown:
            raise ValueError(f"suite {self.name!r} has no tasks of families {sorted(unknown)}; it has {self.families}")
        return Suite(self.name, tuple(t for t in self.tasks if t.family in wanted), self.data_root, self.sources)

    def resolve_path(self, relative: str) -> Path:
        """Resolve a video path from task data, refusing anything outside the data root."""
        return resolve_inside(self.data_root, relative)


def escaping_paths(tasks: Iterable[Task], root: Path) -> list[str]:
    """One problem per video path that leaves ``root`` (checked lexically: no file is touched)."""
    base = os.path.normpath(os.path.abspath(root))
    problems = []
    for task in tasks:
        for v in task.videos:
            if v.path is None:
                continue
            full = os.path.normpath(os.path.join(base, v.path))
            if "\0" in v.path or (full != base and not full.startswith(base.rstrip(os.sep) + os.sep)):
                problems.append(f"task {task.id!r}, video {v.index}: path {v.path[:200]!r} leaves the data root {base}")
    return problems


def resolve_inside(root: Path, relative: str) -> Path:
    """``root/relative`` if it stays inside ``root`` as written (no ``..`` out, not absolute).

    The check is on the path as written, not on where symlinks lead: task files cannot name
    anything outside the root, while a folder the user linked into the root (a ``videos``
    symlink to a big disk) works.
    """
    base = Path(os.path.normpath(os.path.abspath(root)))
    candidate = Path(os.path.normpath(base / relative))
    if candidate != base and base not in candidate.parents:
        raise ValueError(f"path {relative!r} leaves the data root {base}")
    return candidate


def _format_validation_error(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False):
        loc = ".".join(str(x) for x in e["loc"]) or "(task)"
        parts.append(f"field {loc}: {e['msg']}")
    return "; ".join(parts)


def parse_task_lines(path: Path, lines: Iterable[str]) -> tuple[list[Task], list[str]]:
    """Validate each non-blank line; return the tasks and one problem string per bad line."""
    # Parsing creates millions of small objects and no reference cycles: the cyclic garbage
    # collector would rescan the growing heap again and again (3-4x slower on 10,000 tasks).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_lines(path, lines)
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse_lines(path: Path, lines: Iterable[str]) -> tuple[list[Task], list[str]]:
    tasks: list[Task] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            task = Task.model_validate_json(line)
        except ValidationError as err:
            problems.append(f"{path}:{lineno}: {_format_validation_error(err)}")
            continue
        if task.id in seen:
            problems.append(f"{path}:{lineno}: field id: duplicate task id {task.id!r} (first on line {seen[task.id]})")
            continue
        seen[task.id] = lineno
        tasks.append(task)
    return tasks, problems


def read_task_file(path: str | Path) -> list[Task]:
    """Load one JSONL file; raise :class:`SuiteError` listing every bad line if any."""
    path = Path(path)
    try:
        # utf-8-sig: editors on Windows start files with a byte-order mark; it is not content.
        with path.open(encoding="utf-8-sig") as fh:
            tasks, problems = parse_task_lines(path, fh)
    except UnicodeDecodeError as err:
        raise SuiteError(path, [f"{path}: not UTF-8 text ({err})"]) from None
    except OSError as err:
        raise SuiteError(_shown(path), [f"{_shown(path)}: cannot be read ({err.strerror or err})"]) from None
    if problems:
        raise SuiteError(path, problems)
    return tasks


@lru_cache(maxsize=32)
def _load_cached(files: tuple[Path, ...], stamps: tuple[tuple[int, int], ...], name: str, root: Path) -> Suite:
    tasks: list[Task] = []
    for f in files:
        tasks.extend(read_task_file(f))
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise SuiteError(files[0], [f"duplicate task ids across files: {dupes}"])
    return Suite(name, tuple(tasks), root, files)


def load_suite(name_or_path: str | Path = "default", split: str | None = None,
               families: Iterable[str] | None = None) -> Suite:
    """Load a bundled suite by name (``"default"``) or any JSONL file or suite folder.

    ``split`` picks ``train``/``val``/``test`` of a folder suite (``None``: all splits). Loaded
    suites are cached and shared (tasks are immutable), so many envs cost one copy.
    """
    try:
        return _load_suite(name_or_path, split, families)
    except OSError as err:
        if isinstance(err, FileNotFoundError) and not err.filename:
            raise  # our own message, naming the suite
        # e.g. a file name too long for the file system: say which, not a raw OSError
        raise SuiteError(_shown(name_or_path), [f"{_shown(name_or_path)}: cannot be used as a suite "
                                                f"({err.strerror or err})"]) from None


def _shown(path: str | Path, limit: int = 120) -> str:
    text = str(path)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _load_suite(name_or_path: str | Path, split: str | None, families: Iterable[str] | None) -> Suite:
    path = Path(name_or_path)
    if not path.exists() and not str(name_or_path).endswith(".jsonl"):
        candidate = data_dir() / str(name_or_path)
        if not candidate.exists():
            raise FileNotFoundError(
                f"no suite named {name_or_path!r}: not a file, and bundled suites are {bundled_suites()}"
            )
        path = candidate
    if path.is_dir():
        if split is None:
            files = tuple(p for s in SPLITS if (p := path / f"{s}.jsonl").is_file())
            files = files or tuple(sorted(path.glob("*.jsonl")))
        else:
            files = (path / f"{split}.jsonl",)
            if not files[0].is_file():
                have = sorted(p.stem for p in path.glob("*.jsonl"))
                raise FileNotFoundError(f"suite {path} has no split {split!r}; it has {have}")
        root = path
        name = path.name if split is None else f"{path.name}/{split}"
    else:
        if not path.is_file():
            raise FileNotFoundError(f"no such task file: {path}")
        files, root, name = (path,), path.parent, path.stem
    files = tuple(f.resolve() for f in files)
    stamps = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    suite = _load_cached(files, stamps, name, root.resolve())
    return suite.filter(families)
