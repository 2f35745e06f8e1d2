"""Hold back the worker tracebacks an async vector env logs before it re-raises a worker's error.

Gymnasium's ``AsyncVectorEnv`` logs each failing worker's traceback as a ``UserWarning`` and then
raises the error again in the main process. For errors with the user's data (a broken video file,
a bad suite) the command prints one line instead, so those tracebacks are noise; for any other
error they are the only trace of where it happened, so they are shown after all.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def held_worker_errors(is_user_error: Any) -> Iterator[None]:
    """Buffer async vector env worker-error warnings; drop them if a user error ends the block."""
    held: list[tuple] = []
    show = warnings.showwarning

    def hold(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if str(filename).replace("\\", "/").endswith("gymnasium/vector/async_vector_env.py"):
            held.append((message, category, filename, lineno, file, line))
        else:
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = hold
    try:
        yield
    except BaseException as err:
        if not is_user_error(err):
            for item in held:
                show(*item)
        held.clear()
        raise
    finally:
        warnings.showwarning = show
        for item in held:  # no error escaped: the env recovered, keep what it said
            show(*item)
