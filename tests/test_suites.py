"""Task files: validation errors name file, line and field; paths stay inside the data root."""

import json

import pytest

from cvr_gym import SuiteError, load_suite
from cvr_gym.core.suites import resolve_inside

from conftest import MINI_TASKS


def write(tmp_path, lines, name="suite.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loads_file_and_filters(mini_suite_path):
    suite = load_suite(mini_suite_path)
    assert len(suite) == len(MINI_TASKS)
    assert {t.family for t in load_suite(mini_suite_path, families=["BU"])} == {"BU"}
    assert suite.index_of("count-cups") == 1


def test_bad_lines_are_all_reported_with_file_line_and_field(tmp_path):
    good = json.dumps(MINI_TASKS[0])
    bad_answer = json.dumps({**MINI_TASKS[0], "id": "x", "answer": "Z"})
    missing = json.dumps({k: v for k, v in MINI_TASKS[1].items() if k != "question"} | {"id": "y"})
    path = write(tmp_path, [good, "{not json", bad_answer, "", missing])
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    msg = str(err.value)
    assert f"{path}:2:" in msg and f"{path}:3:" in msg and f"{path}:5:" in msg
    assert "field answer" in msg and "field question" in msg
    assert len(err.value.problems) == 3


def test_duplicate_ids_reported(tmp_path):
    line = json.dumps(MINI_TASKS[0])
    with pytest.raises(SuiteError, match="duplicate task id"):
        load_suite(write(tmp_path, [line, line]))


def test_script_item_errors(tmp_path):
    task = json.loads(json.dumps(MINI_TASKS[0]))
    task["videos"][0]["script"][0]["end"] = -1
    task["videos"][1]["script"][0]["kind"] = "smell"
    with pytest.raises(SuiteError) as err:
        load_suite(write(tmp_path, [json.dumps(task)]))
    assert "videos.0.script.0.end" in str(err.value) and "videos.1.script.0.kind" in str(err.value)


def test_missing_suite_and_split(tmp_path):
    with pytest.raises(FileNotFoundError, match="no suite named"):
        load_suite("no-such-suite")
    (tmp_path / "s").mkdir()
    write(tmp_path / "s", [json.dumps(MINI_TASKS[0])], "train.jsonl")
    assert len(load_suite(tmp_path / "s", split="train")) == 1
    with pytest.raises(FileNotFoundError, match="has no split 'test'"):
        load_suite(tmp_path / "s", split="test")


def test_paths_stay_inside_data_root(tmp_path):
    assert resolve_inside(tmp_path, "videos/a.mp4") == (tmp_path / "videos/a.mp4").resolve()
    for bad in ["../secret.mp4", "/etc/passwd", "videos/../../x.mp4"]:
        with pytest.raises(ValueError, match="leaves the data root"):
            resolve_inside(tmp_path, bad)


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SuiteError, match="not UTF-8"):
        load_suite(path)
