"""Suite loading speed: ``load_suite`` on 10,000 generated tasks. Run with --benchmark-only.

Target: under 2 s for 10,000 tasks of the default ("medium") generator settings.
"""

import pytest

from cvr_gym.core import suites
from cvr_gym.core.suites import load_suite
from cvr_gym.data import generate_suite, write_jsonl

N_TASKS = 10_000


def _clear_cache() -> None:
    # load_suite caches parsed suites; each round must parse the file again.
    clear = getattr(getattr(suites, "_load_cached", None), "cache_clear", None)
    if clear is not None:
        clear()


@pytest.fixture(scope="module")
def ten_thousand_tasks(tmp_path_factory):
    per_family = -(-N_TASKS // 11)
    tasks = generate_suite(seed=0, n_per_family=per_family, difficulty="medium")[:N_TASKS]
    path = tmp_path_factory.mktemp("bench_suite") / "tasks.jsonl"
    write_jsonl(tasks, path)
    return path


def test_bench_load_10000_tasks(benchmark, ten_thousand_tasks):
    suite = benchmark.pedantic(load_suite, args=(str(ten_thousand_tasks),), setup=_clear_cache,
                               rounds=3, iterations=1)
    assert len(suite) == N_TASKS
