"""Results files never lose records: one writer at a time, and lines that are not records are skipped."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from cvr_gym.cli import main
from cvr_gym.evaluation.results import ResultsFileBusy, ResultsWriter, read_results

RECORD = {"episode": 0, "task_id": "a", "seed": 0, "agent": "x", "env_id": "CVRSim-v0"}


def test_a_second_writer_on_the_same_file_is_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path) as first:
        first.write(RECORD)
        for resume in (False, True):
            with pytest.raises(ResultsFileBusy, match="being written by another run"):
                ResultsWriter(path, resume=resume)
        first.write({**RECORD, "episode": 1})
    assert len(read_results(path)) == 2  # the refused writers truncated nothing
    with ResultsWriter(path, resume=True) as again:  # released on close
        assert len(again.existing) == 2


def test_eval_refuses_an_out_file_another_process_is_writing(mini_suite_path, tmp_path, capsys):
    out = tmp_path / "busy.jsonl"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from cvr_gym.evaluation.results import ResultsWriter
        w = ResultsWriter({str(out)!r})
        w.write({RECORD!r})
        print("ready", flush=True)
        sys.stdin.read()
        w.close()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        code = main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", "random",
                     "--episodes", "3", "--out", str(out), "--no-progress"])
        assert code == 2 and "being written by another run" in capsys.readouterr().err
    finally:
        holder.communicate("", timeout=30)
    assert read_results(out) == [RECORD]


def test_valid_json_that_is_not_a_record_is_skipped(mini_suite_path, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", "random",
                 "--episodes", "3", "--out", str(out), "--no-progress"]) == 0
    out.write_text('[1, 2]\n"text"\n42\nnull\n{"episode": "x"}\n' + out.read_text() + "[]\n")
    assert len(read_results(out)) == 3
    with pytest.raises(ValueError, match=":1: not a result record"):
        read_results(out, strict=True)
    assert main(["report", str(out)]) == 0
    assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", "random",
                 "--episodes", "4", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert len(read_results(out, strict=True)) == 4
    capsys.readouterr()


def _nested(depth: int) -> dict:
    value: dict = {"name": "answer", "arguments": {"answer": "A"}}
    for _ in range(depth):
        value = {"name": "answer", "arguments": value}
    return value


def _cyclic() -> dict:
    value: dict = {"name": "answer", "arguments": {}}
    value["arguments"]["answer"] = value
    return value


class _BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")


HOSTILE_ACTIONS = {
    "surrogate": lambda: {"name": "answer", "arguments": {"answer": "A \ud800 B"}},
    "surrogate-text": lambda: '{"name": "answer", "arguments": {"answer": "\\ud800"}} \udc80',
    "huge-int": lambda: {"name": "answer", "arguments": {"answer": 10 ** 5000}},
    "huge-int-key": lambda: {"name": "answer", "arguments": {10 ** 5000: 1}},
    "nested": lambda: _nested(3000),
    "cyclic": _cyclic,
    "bad-repr": _BadRepr,
    "nan": lambda: {"name": "answer", "arguments": {"answer": float("nan")}},
}


class HostileAgent:
    name = "hostile"

    def __init__(self, kind: str):
        self.kind = kind

    @classmethod
    def from_spec(cls, arg, seed=0, action_space=None):
        return cls(arg)

    def reset(self, obs, info, *, seed=None):
        pass

    def act(self, obs, info):
        return HOSTILE_ACTIONS[self.kind]()


@pytest.mark.parametrize("kind", sorted(HOSTILE_ACTIONS))
def test_whatever_an_agent_returns_its_episodes_are_recorded(mini_suite_path, tmp_path, capsys, kind):
    from cvr_gym.evaluation.registry import register_agent

    register_agent("test-hostile", "test_hardening_results:HostileAgent.from_spec", overwrite=True)
    out = tmp_path / "r.jsonl"
    assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", f"test-hostile:{kind}",
                 "--episodes", "2", "--out", str(out), "--no-progress"]) == 0
    records = read_results(out, strict=True)
    assert len(records) == 2 and all(r["actions"] for r in records)
    out.read_bytes().decode("utf-8")
    capsys.readouterr()


def test_jsonable_notes_what_cannot_be_written():
    from cvr_gym.evaluation.records import MAX_DEPTH, jsonable, record_line

    assert jsonable(10 ** 5000) == f"<int of {(10 ** 5000).bit_length()} bits>"
    assert jsonable(12) == 12 and jsonable({3: "x"}) == {"3": "x"}
    deep = jsonable(_nested(500))
    for _ in range(MAX_DEPTH // 2):
        deep = deep["arguments"]
    assert "nested deeper than" in json.dumps(deep)
    assert json.loads(record_line({"a": "x\ud800y"})) == {"a": "x\ufffdy"}


@pytest.mark.parametrize("field", [{"score": "abc"}, {"score": float("nan")}, {"score": True}, {"family": 5},
                                   {"costs": "x"}, {"costs": {"frames": "many"}}, {"termination_reason": 7},
                                   {"agent": ["x"]}, {"seed": "x"}])
def test_records_with_fields_of_the_wrong_type_are_skipped_and_reported(mini_suite_path, tmp_path, capsys, field):
    out = tmp_path / "r.jsonl"
    assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", "random",
                 "--episodes", "3", "--out", str(out), "--no-progress"]) == 0
    good = read_results(out, strict=True)
    out.write_text(out.read_text() + json.dumps({**good[0], "episode": 99, **field}) + "\n")
    skipped = []
    assert len(read_results(out, skipped=skipped)) == 3 and len(skipped) == 1 and ":4: not a result record" in skipped[0]
    with pytest.raises(ValueError, match=":4: not a result record"):
        read_results(out, strict=True)
    capsys.readouterr()
    for extra in ([], ["--json"], ["--out", str(tmp_path / "p.png")]):
        assert main(["report", str(out), *extra]) == 0
        assert "skipped 1 line(s) that are not result records" in capsys.readouterr().err
    assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", "random",
                 "--episodes", "4", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert len(read_results(out, strict=True)) == 4


def test_bytes_that_are_not_utf8_do_not_stop_reading(tmp_path):
    out = tmp_path / "r.jsonl"
    with ResultsWriter(out) as w:
        w.write(RECORD)
    out.write_bytes(out.read_bytes() + b'\xff\xfe{"episode": 1}\n' + b"[" * 100_000 + b"\n"
                    + json.dumps({**RECORD, "episode": 2}).encode() + b"\n")
    skipped = []
    assert [r["episode"] for r in read_results(out, skipped=skipped)] == [0, 2] and len(skipped) == 2
