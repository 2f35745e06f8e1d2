"""CLI defaults and labels: eval on the real env, report --label, n per family in plots, compare's task spread."""

from __future__ import annotations

import json

import pytest

from cvr_gym.cli import main


def test_eval_on_the_real_env_defaults_to_a_suite_it_can_run(monkeypatch, capsys):
    import cvr_gym.evaluation.run as run

    seen = {}

    def fake_plan(config):
        seen["suite"] = config.suite
        raise ValueError("stop here")

    monkeypatch.setattr(run, "plan", fake_plan)
    assert main(["eval", "--env", "CVRReal-v0", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert seen["suite"] == "corpus" and "using 'corpus'" in err
    assert main(["eval", "--no-progress"]) == 2
    assert seen["suite"] == "default"
    capsys.readouterr()
    assert main(["eval", "--env", "CVRReal-v0", "--suite", "mine.jsonl", "--no-progress"]) == 2
    assert seen["suite"] == "mine.jsonl" and "using" not in capsys.readouterr().err


def test_report_labels_runs_and_plots_give_n_per_family(mini_suite_path, tmp_path, capsys, monkeypatch):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path, agent, n in ((a, "oracle:reader=generic", 6), (b, "random", 4)):
        assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", agent,
                     "--episodes", str(n), "--out", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", str(a), str(b), "--label", "oracle", "--label", "baseline", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["runs"]) == {"oracle", "baseline"}
    assert main(["report", str(a), str(b), "--label", "only-one"]) == 2

    import matplotlib.axes

    titles = []
    real = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda self, t, *a, **k: titles.append(t) or real(self, t, *a, **k))
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "p.png")]) == 0
    assert "ALL (n=6/4)" in titles and all("n=" in t for t in titles)


def test_compare_spreads_tasks_like_eval():
    from types import SimpleNamespace

    from cvr_gym.evaluation.compare import _spread_tasks
    from cvr_gym.evaluation.episodes import plan_episodes

    tasks = [SimpleNamespace(id=f"{fam}-{i}", family=fam) for fam in "ABCD" for i in range(10)]
    picked = _spread_tasks(tasks, 8, seed=0)
    assert [t.id for t in picked] == [e.task_id for e in plan_episodes([(t.id, t.family) for t in tasks], 8, 0)]
    assert len({t.family for t in picked}) >= 3  # suite order would give 8 tasks of family A
    assert _spread_tasks(tasks, None, 0) == tasks


@pytest.mark.real
@pytest.mark.parametrize("vector", ["async", "sync"])
def test_a_broken_file_under_vector_eval_is_one_line(tmp_path, capsys, vector):
    (tmp_path / "broken.mp4").write_bytes(b"\x00garbage" * 600)
    task = {"id": "b", "family": "BU", "question": "q?", "answer_type": "count", "answer": 1,
            "videos": [{"index": 1, "path": "broken.mp4", "duration": 4.0, "fps": 4, "has_audio": False}]}
    suite = tmp_path / "tasks.jsonl"
    suite.write_text(json.dumps(task) + "\n" + json.dumps({**task, "id": "c"}) + "\n")
    import sys
    import warnings

    with warnings.catch_warnings():  # warnings printed to stderr as outside pytest
        warnings.simplefilter("default")
        warnings.showwarning = lambda m, c, f, n, file=None, line=None: sys.stderr.write(
            warnings.formatwarning(m, c, f, n, line))
        code = main(["eval", "--env", "CVRReal-v0", "--suite", str(suite), "--split", "all", "--agent", "random",
                     "--episodes", "2", "--num-envs", "2", "--vector", vector, "--out", str(tmp_path / "r.jsonl"),
                     "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "TypeError" not in err
    assert [line for line in err.splitlines() if line.strip()] == [line for line in err.splitlines() if line.startswith("error: ")]
    assert "broken.mp4: cannot be opened as a media file" in err


def test_worker_tracebacks_stay_visible_for_errors_that_are_not_the_users():
    import warnings

    from cvr_gym.cli._worker_errors import held_worker_errors

    shown = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda m, *a, **k: shown.append(str(m))
        for error, expected in ((ValueError("data"), []), (RuntimeError("bug"), ["worker traceback"])):
            shown.clear()
            with pytest.raises(type(error)):
                with held_worker_errors(lambda e: isinstance(e, ValueError)):
                    warnings.warn_explicit("worker traceback", UserWarning,
                                           "/x/gymnasium/vector/async_vector_env.py", 447)
                    warnings.warn("other")
                    raise error
            assert shown == ["other", *expected]
