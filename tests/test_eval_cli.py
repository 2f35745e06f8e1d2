"""The evaluation harness and the eval / report / play subcommands."""

from __future__ import annotations

import io
import json

import pytest

from cvr_gym.cli import build_parser, main
from cvr_gym.evaluation.episodes import plan_episodes
from cvr_gym.evaluation.results import ResultsWriter, read_results

REQUIRED = {"episode", "task_id", "family", "seed", "agent", "env_id", "actions", "observations", "reward_components",
            "return", "score", "termination_reason", "costs"}
COSTS = {"frames", "visual_tokens", "audio_seconds", "latency_s", "tool_calls", "steps", "wall_time_s"}


def eval_args(suite, out, agent="single-pass:16,reader=generic", episodes=9, *extra):
    return ["eval", "--suite", str(suite), "--split", "all", "--agent", agent, "--episodes", str(episodes),
            "--seed", "3", "--out", str(out), "--no-progress", *extra]


def comparable(path):
    records = sorted(read_results(path, strict=True), key=lambda r: r["episode"])
    for r in records:
        r["costs"].pop("wall_time_s")
    return records


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    commands = list(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    assert {"eval", "report", "play"} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage" in capsys.readouterr().out


def test_plan_is_seeded_and_wraps():
    tasks = [(f"t{i}", "BU") for i in range(5)]
    a, b = plan_episodes(tasks, 12, seed=1), plan_episodes(tasks, 12, seed=1)
    assert a == b
    assert sorted(e.task_id for e in a[:5]) == sorted(t for t, _ in tasks)  # each task once per pass
    assert sorted(e.task_id for e in a[5:10]) == sorted(t for t, _ in tasks)
    assert len({e.env_seed for e in a}) == 12


def test_eval_writes_jsonl_and_summary(mini_suite_path, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert main(eval_args(mini_suite_path, out, "oracle:reader=generic", 8, "--json")) == 0
    summary = json.loads(capsys.readouterr().out)
    records = read_results(out, strict=True)
    assert len(records) == 8 and summary["episodes"] == 8
    for r in records:
        assert REQUIRED <= set(r) and COSTS <= set(r["costs"])
        assert r["agent"] == "oracle:reader=generic" and r["env_id"] == "CVRSim-v0"
        assert r["observations"][0].startswith("You are given")
        assert len(r["observations"]) == len(r["actions"]) + 1
    assert summary["families"]["ALL"]["score"] >= 0.95
    assert set(summary["families"]) == {r["family"] for r in records} | {"ALL"}


def test_eval_table_and_render(mini_suite_path, tmp_path, capsys):
    assert main(eval_args(mini_suite_path, tmp_path / "r.jsonl", "random", 3, "--render", "ansi")) == 0
    text = capsys.readouterr().out
    assert "=== episode 0" in text and ">>> " in text  # transcripts
    assert "ALL" in text and "score" in text  # the table


def test_resume_after_interruption(mini_suite_path, tmp_path, capsys):
    full, cut = tmp_path / "full.jsonl", tmp_path / "cut.jsonl"
    assert main(eval_args(mini_suite_path, full, episodes=10)) == 0
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # an interrupted run: some records and a cut line
    assert len(read_results(cut)) < 10
    assert main(eval_args(mini_suite_path, cut, "single-pass:16,reader=generic", 10, "--resume")) == 0
    assert comparable(cut) == comparable(full)
    lines = [json.loads(line) for line in cut.read_text().splitlines()]
    assert len(lines) == 10 and len({(r["episode"], r["task_id"], r["seed"]) for r in lines}) == 10
    # Resuming a finished run runs nothing more; another agent's file is refused.
    assert main(eval_args(mini_suite_path, cut, "single-pass:16,reader=generic", 10, "--resume")) == 0
    assert len(cut.read_text().splitlines()) == 10
    capsys.readouterr()
    assert main(eval_args(mini_suite_path, cut, "random", 10, "--resume")) == 2
    assert "other runs" in capsys.readouterr().err


@pytest.mark.parametrize("vector", ["async", "sync"])
def test_vector_run_equals_sequential(mini_suite_path, tmp_path, vector):
    seq, vec = tmp_path / "seq.jsonl", tmp_path / "vec.jsonl"
    assert main(eval_args(mini_suite_path, seq, "random", 11)) == 0
    assert main(eval_args(mini_suite_path, vec, "random", 11, "--num-envs", "3", "--vector", vector)) == 0
    assert comparable(vec) == comparable(seq)


def test_agent_errors_end_the_episode_not_the_run(mini_suite_path, tmp_path, capsys):
    from cvr_gym.evaluation.registry import register_agent

    register_agent("test-broken", "test_eval_cli:BrokenAgent.from_spec", overwrite=True)
    out = tmp_path / "r.jsonl"
    assert main(eval_args(mini_suite_path, out, "test-broken", 3, "--num-envs", "2", "--vector", "sync")) == 0
    records = read_results(out)
    assert len(records) == 3 and all(r["termination_reason"] == "agent_error" for r in records)
    assert "agent error" in capsys.readouterr().err


class BrokenAgent:
    name = "broken"

    @classmethod
    def from_spec(cls, arg, seed=0, action_space=None):
        return cls()

    def reset(self, obs, info, *, seed=None):
        pass

    def act(self, obs, info):
        if info.get("step", 0) >= 1:
            raise RuntimeError("boom")
        return {"name": "listen", "arguments": {"video": 1, "start": 0, "end": 5}}


def test_bad_arguments(mini_suite_path, tmp_path, capsys):
    assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", "nope", "--no-progress"]) == 2
    assert main(["eval", "--suite", str(tmp_path / "missing.jsonl"), "--no-progress"]) == 2
    assert main(["eval", "--suite", str(mini_suite_path), "--resume", "--no-progress"]) == 2
    assert main(["eval", "--suite", str(mini_suite_path), "--env-arg", "oops", "--no-progress"]) == 2
    capsys.readouterr()


def test_env_args_reach_the_env(mini_suite_path, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert main(eval_args(mini_suite_path, out, "single-pass:64,reader=generic", 4,
                          "--env-arg", "frame_budget=40", "--env-arg", 'families=["BU"]')) == 0
    records = read_results(out)
    assert {r["family"] for r in records} == {"BU"}
    assert all(r["costs"]["frames"] <= 40 for r in records)


def test_results_reader_and_writer(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path) as w:
        w.write({"episode": 0, "task_id": "a", "seed": 0})
        w.write({"episode": 0, "task_id": "a", "seed": 0})  # duplicate: ignored
    path.write_text(path.read_text() + '{"episode": 1, "task_')
    assert len(read_results(path)) == 1
    with pytest.raises(ValueError, match=":2:"):
        read_results(path, strict=True)


def test_report_table_json_and_png(mini_suite_path, tmp_path, capsys):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(eval_args(mini_suite_path, a, "oracle:reader=generic", 6)) == 0
    assert main(eval_args(mini_suite_path, b, "random", 6)) == 0
    capsys.readouterr()
    png = tmp_path / "plot.png"
    assert main(["report", str(a), str(b), "--out", str(png)]) == 0
    text = capsys.readouterr().out
    assert "oracle:reader=generic" in text and "random" in text and "ALL" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert main(["report", str(a), str(b), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert runs["oracle:reader=generic"]["ALL"]["score"] > runs["random"]["ALL"]["score"]
    assert main(["report", str(tmp_path / "none.jsonl")]) == 2


def test_play_with_piped_input(mini_suite_path, monkeypatch, capsys):
    lines = ["help", "observe 1 25 35 8 focus car + 2 0 10 8", "bogus 1 2", "listen 1 0 20",
             '{"name": "listen", "arguments": {"video": 1, "start": 45, "end": 55}}', "answer B"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = main(["play", "--suite", str(mini_suite_path), "--split", "all", "--task-id", "car-colour"])
    text = capsys.readouterr().out
    assert code == 0
    assert "Question: Which colour is the car" in text
    assert "blue car" in text and "look at that car" in text and "car horn" in text
    assert "unknown command" in text
    assert "Score: 1.000" in text


def test_play_without_an_answer(mini_suite_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("listen 1 0 5\n"))
    assert main(["play", "--suite", str(mini_suite_path), "--split", "all", "--seed", "1"]) == 1
    assert "not finished" in capsys.readouterr().out


def test_eval_on_the_default_suite(tmp_path, capsys):
    import cvr_gym

    try:
        cvr_gym.load_suite("default", split="test")
    except (FileNotFoundError, ValueError):
        pytest.skip("the default suite is not bundled yet")
    out = tmp_path / "r.jsonl"
    assert main(["eval", "--agent", "oracle", "--episodes", "11", "--out", str(out), "--json", "--no-progress",
                 "--num-envs", "2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["episodes"] == 11 and len(read_results(out, strict=True)) == 11
    assert summary["families"]["ALL"]["score"] >= 0.85


def test_typed_calls():
    from cvr_gym.evaluation.typed_calls import TypedCallError, parse_typed_call

    call = parse_typed_call("observe 1 0 60 8 focus red car")
    assert call.name == "observe" and call.arguments.focus == "red car"
    assert call.arguments.targets[0].num_frames == 8
    assert len(parse_typed_call("o 1 0 10 + 2 0 10 4").arguments.targets) == 2
    assert parse_typed_call("l 2 0 30").arguments.video == 2
    assert parse_typed_call("answer B").arguments.answer == "B"
    assert parse_typed_call('answer ["A", "C"]').arguments.answer == ("A", "C")
    assert parse_typed_call("answer 4").arguments.answer == 4
    assert parse_typed_call('{"name": "answer"}') == '{"name": "answer"}'
    for bad in ("observe 1 0", "listen a b c", "answer", "observe 1 10 5", "dance"):
        with pytest.raises(TypedCallError):
            parse_typed_call(bad)
