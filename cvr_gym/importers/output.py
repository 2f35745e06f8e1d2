"""Writing imported tasks as a suite file and checking that it loads."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cvr_gym.core.suites import Suite, load_suite
from cvr_gym.core.tasks import Task


def write_suite(tasks: Sequence[Task], out: str | Path) -> Suite:
    """Write ``tasks`` to ``out`` (JSONL, one task a line), atomically, and load it back.

    Loading runs the same validation as every suite (:func:`cvr_gym.load_suite`); a
    :class:`~cvr_gym.SuiteError` means the written file is not a valid suite.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for task in tasks:
            fh.write(task.model_dump_json() + "\n")
    os.replace(tmp, out)
    return load_suite(out)
