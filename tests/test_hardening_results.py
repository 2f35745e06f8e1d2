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
