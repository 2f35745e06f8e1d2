"""The episode viewer: looks kept in records, look distance, the HTML page (in a real headless
browser), comparisons side by side, the PNG timeline and the CLI."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import MINI_TASKS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cvr_gym.cli import main as cli_main
from cvr_gym.evaluation.runner import EvalConfig, plan, run_episodes
from cvr_gym.evaluation.viewer import (
    TaskLookup,
    align,
    episode_timelines,
    load_runs,
    look_distance,
    render_page,
    select,
)
from cvr_gym.evaluation.viewer.model import EpisodeView, Look, StepView
from cvr_gym.evaluation.viewer.timeline import VideoTimeline, span_gap

HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def suite_path(tmp_path_factory) -> Path:
    """The mini suite plus a task with hostile text and clip windows."""
    tasks = copy.deepcopy(MINI_TASKS)
    hostile = copy.deepcopy(tasks[0])
    hostile.update(id="hostile" + HOSTILE, question="Which colour? " + HOSTILE,
                   options=["red", HOSTILE, "green", "white"], meta={"clips": [[25.0, 35.0], [0.0, 10.0]]})
    tasks.append(hostile)
    path = tmp_path_factory.mktemp("viewer") / "tasks.jsonl"
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in tasks) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def results(suite_path, tmp_path_factory) -> Path:
    """A heuristic run over every task of the suite, written as ``cvr-gym eval`` writes it."""
    from cvr_gym.evaluation.results import ResultsWriter

    config = EvalConfig(agent="heuristic", suite=str(suite_path), split=None, seed=0)
    out = tmp_path_factory.mktemp("runs") / "heuristic.jsonl"
    with ResultsWriter(out) as writer:
        for result in run_episodes(config, plan(config)):
            writer.write(result.record)
    return out


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- what records keep ----------------------------------------------------------------------------

def test_records_keep_the_sampled_frame_times_and_the_suite(results, suite_path):
    for r in _records(results):
        assert r["suite"] == str(suite_path) and r["split"] is None
        assert len(r["steps"]) == len(r["tool_calls"])
        looks = [lk for s in r["steps"] for lk in s["looks"]]
        assert sum(len(lk["times"]) for lk in looks if lk["tool"] == "observe") == r["costs"]["frames"]
        for step, calls in zip(r["steps"], r["tool_calls"]):
            for lk in step["looks"]:
                call = calls[lk["call"]]
                assert call["name"] == lk["tool"]
                if lk["tool"] == "observe":  # bin centres of the (clamped) window, as the env samples
                    n = len(lk["times"])
                    want = [lk["start"] + (i + 0.5) * (lk["end"] - lk["start"]) / n for i in range(n)]
                    assert lk["times"] == pytest.approx(want, abs=1e-3)
            assert sum(c["frames"] for c in step["call_costs"]) == sum(
                len(lk.get("times", [])) for lk in step["looks"])
        assert sum(s["reward"] for s in r["steps"]) == pytest.approx(r["return"], abs=1e-5)


def test_info_looks_per_call_position(sim_env):
    sim_env.reset(seed=0, options={"task_id": "car-colour"})
    _, _, _, _, info = sim_env.step([
        {"name": "listen", "arguments": {"video": 1, "start": 50, "end": 99, "focus": ""}},
        {"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 60, "num_frames": 3},
                                                      {"video": 2, "start": 30, "end": 90, "num_frames": 2}],
                                          "focus": ""}}])
    assert info["looks"] == [
        {"tool": "listen", "call": 0, "video": 1, "start": 50.0, "end": 60.0},
        {"tool": "observe", "call": 1, "video": 1, "start": 0.0, "end": 60.0, "times": [10.0, 30.0, 50.0]},
        {"tool": "observe", "call": 1, "video": 2, "start": 30.0, "end": 40.0, "times": [32.5, 37.5]},
    ]
    _, _, _, _, info = sim_env.step("not a tool call")
    assert info["looks"] == []


# -- look distance ------------------------------------------------------------------------------

def _look(tool, video, start, end, times=(), call=0):
    return Look(tool, 1, call, video, start, end, list(times), list(times))


def test_look_distance_by_hand():
    v1 = VideoTimeline(1, 100.0, [_look("observe", 1, 0, 100, [10, 50, 90])], gold=[(30, 32), (49, 51)])
    v2 = VideoTimeline(2, 60.0, [_look("listen", 2, 0, 10), _look("observe", 2, 26, 28, [27], call=1)],
                       gold=[(20, 25), (5, 30)])
    v3 = VideoTimeline(3, 40.0, [_look("listen", 3, 0, 40)], gold=[(1, 2)])
    # v1: 30-32 is 18 s from the frame at 50 (and 20 from 10); 49-51 holds the frame at 50.
    assert span_gap(30, 32, v1) == pytest.approx(18.0)
    assert span_gap(49, 51, v1) == 0.0
    # v2: the frame at 27 is 2 s after 20-25 and inside 5-30; listening does not count as seeing.
    assert span_gap(20, 25, v2) == pytest.approx(2.0)
    assert span_gap(5, 30, v2) == 0.0
    # v3: heard all of it, never saw a frame: the whole video away.
    assert span_gap(1, 2, v3) == 40.0
    d = look_distance([v1, v2, v3])
    assert d.mean_gap_s == pytest.approx((18 + 0 + 2 + 0 + 40) / 5)
    assert (d.spans, d.spans_seen, d.seen_share) == (5, 2, 0.4)
    assert d.spans_heard == 2  # v2's 5-30 (listen 0-10 overlaps it) and v3's 1-2; not v2's 20-25
    assert look_distance([VideoTimeline(1, 10.0)]).mean_gap_s is None


def test_timelines_use_decoded_times_and_task_spans_and_clips(suite_path):
    lookup = TaskLookup(str(suite_path))
    step = StepView(1, [{"name": "observe", "arguments": {}}], 0,
                    looks=[Look("observe", 1, 0, 1, 0, 60, [31.0], [30.9])])
    ep = EpisodeView("r", 0, "hostile" + HOSTILE, "BU", "CVRReal-v0", "a", 1.0, "B", "answer", [step])
    task = lookup.get(ep)
    tls = episode_timelines(ep, task)
    assert [(t.video, t.duration, t.gold, t.clips) for t in tls] == [
        (1, 60.0, [(30.0, 32.0)], [(25.0, 35.0)]), (2, 40.0, [(5.0, 8.0)], [(0.0, 10.0)])]
    d = look_distance(tls)
    assert d.gaps == (0.0, 40.0)  # the decoded frame (31 s) is inside 30-32; video 2 never looked at


# -- the page -------------------------------------------------------------------------------------

def _expected_counts(records: list[dict], suite_path: Path) -> tuple[int, int, int]:
    tasks = {t["id"]: t for t in (json.loads(line) for line in suite_path.read_text().splitlines())}
    timelines = sum(len(tasks[r["task_id"]]["videos"]) for r in records)
    ticks = sum(r["costs"]["frames"] for r in records)
    gold = sum(len(tasks[r["task_id"]].get("evidence", [])) for r in records)
    return timelines, ticks, gold


def test_page_escapes_untrusted_text_and_fetches_nothing(results, suite_path):
    page = render_page(load_runs(results))
    assert HOSTILE not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.title" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)|url\(\s*["']?\s*(https?:|//)|@import""", page)
    timelines, ticks, gold = _expected_counts(_records(results), suite_path)
    assert page.count('<svg class="timeline"') == timelines
    assert page.count('class="tick"') == ticks
    assert page.count('<rect class="gold"') == gold


def _browser() -> str | None:
    return next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


def render_in_browser(page: Path, tmp_path: Path) -> str:
    """The DOM of ``page`` after a headless Chromium has loaded it and run its scripts."""
    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser: install Debian's chromium (apt-get install chromium)")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.resolve().as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _status(dom: str) -> dict[str, str]:
    m = re.search(r'<div id="viewer-status"([^>]*)>([^<]*)<', dom)
    assert m, "the page has no status line"
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', m.group(1)))
    attrs["text"] = m.group(2)
    return attrs


def test_page_renders_in_a_headless_browser(results, suite_path, tmp_path):
    out = tmp_path / "view.html"
    assert cli_main(["view", str(results), "-o", str(out)]) == 0
    dom = render_in_browser(out, tmp_path)
    status = _status(dom)
    assert status["state"] == "ok", status["text"]  # the page's script ran without errors
    timelines, ticks, gold = _expected_counts(_records(results), suite_path)
    assert (int(status["timelines"]), int(status["ticks"]), int(status["gold"])) == (timelines, ticks, gold)
    assert "pwned" not in dom.split("</title>")[0]  # the hostile task's script never ran
    assert "Episodes by look distance" in dom


def test_one_episode_in_the_browser(results, tmp_path):
    record = _records(results)[2]
    out = tmp_path / "one.html"
    assert cli_main(["view", str(results), "--episode", str(record["episode"]), "-o", str(out)]) == 0
    status = _status(render_in_browser(out, tmp_path))
    task = next(t for t in MINI_TASKS if t["id"] == record["task_id"])
    assert status["state"] == "ok"
    assert (int(status["timelines"]), int(status["ticks"])) == (len(task["videos"]), record["costs"]["frames"])


# -- several runs side by side -----------------------------------------------------------------

def _fake_comparison(suite_path: Path, tmp_path: Path) -> Path:
    """A comparison file as ``cvr-gym compare`` writes it, with the simulator standing in for both
    worlds (real perception is too slow for a unit test; the file format is the same)."""
    import gymnasium as gym

    from baselines import make_agent
    from cvr_gym.evaluation.compare import _play, _strip

    env = gym.make("CVRSim-v0", suite=str(suite_path), split=None, disable_env_checker=True)
    agent = make_agent("heuristic", 0, env.action_space)
    episodes = []
    for task_id in ("car-colour", "steps-order"):
        sim = _strip(_play(env, agent, task_id, 0))
        real = _strip(_play(env, agent, task_id, 1))
        episodes.append({"task_id": task_id, "family": sim["family"], "sim": sim, "real": real, "agree": True})
    env.close()
    path = tmp_path / "compare" / "compare.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"config": {"agent": "heuristic", "suite": str(suite_path), "split": None,
                                           "mode": "paired"}, "episodes": episodes}), encoding="utf-8")
    return path


def test_comparison_and_results_side_by_side(results, suite_path, tmp_path):
    compare = _fake_comparison(suite_path, tmp_path)
    runs = load_runs(compare.parent) + load_runs(results)  # a folder holding compare.json works too
    assert [r.env_id for r in runs] == ["CVRSim-v0", "CVRReal-v0", "CVRSim-v0"]
    rows = align(select(runs, task="steps-order"), TaskLookup())
    assert len(rows) == 1 and all(c is not None for c in rows[0].cells)
    sim_cell = rows[0].cells[0]
    assert sim_cell.episode.steps[0].observation  # evidence lines kept for the transcript
    # The comparison's sim episode and the eval episode of the same task look at the same places.
    times = [lk.times for lk in sim_cell.episode.looks]
    assert times == [lk.times for lk in rows[0].cells[2].episode.looks]
    out = tmp_path / "side.html"
    assert cli_main(["view", str(compare), str(results), "--task", "steps-order", "-o", str(out)]) == 0
    status = _status(render_in_browser(out, tmp_path))
    assert status["state"] == "ok"
    assert int(status["timelines"]) == 3 * 2  # three runs x two videos
    assert int(status["ticks"]) == 3 * sim_cell.episode.frames


def test_missing_selection_and_bad_files_are_clear_errors(results, tmp_path, capsys):
    assert cli_main(["view", str(results), "--episode", "999", "-o", str(tmp_path / "x.html")]) == 2
    assert "no episode 999" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"nothing": 1}')
    assert cli_main(["view", str(bad)]) == 2
    assert cli_main(["view", str(tmp_path / "absent.jsonl")]) == 2


def test_png_timeline(results, tmp_path):
    record = _records(results)[0]
    out = tmp_path / "timeline.png"
    assert cli_main(["view", str(results), "--episode", str(record["episode"]), "--png", str(out)]) == 0
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width > 600 and img.height > 200


def test_records_without_looks_are_rebuilt_from_tool_calls(results, suite_path, tmp_path):
    old = tmp_path / "old.jsonl"
    records = _records(results)
    for r in records:
        r.pop("steps"), r.pop("suite"), r.pop("split")
    old.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    new_rows = align(load_runs(results), TaskLookup())
    old_rows = align(load_runs(old), TaskLookup(str(suite_path)))  # --suite finds the tasks
    for a, b in zip(new_rows, old_rows):
        assert b.cells[0].episode.reconstructed
        flat = lambda row: [t for lk in row.cells[0].episode.looks for t in [lk.video, lk.start, lk.end, *lk.times]]
        assert flat(a) == pytest.approx(flat(b), abs=1e-3)
        assert a.cells[0].distance.mean_gap_s == pytest.approx(b.cells[0].distance.mean_gap_s, abs=1e-2)


# -- damaged or hostile results files -------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30) | st.just(HOSTILE),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)

# Places in a record where a damaged value is put: (path of keys and indexes).
_PLACES = [("score",), ("costs",), ("costs", "frames"), ("reward_components",), ("tool_calls",), ("tool_calls", 0),
           ("tool_calls", 0, 0), ("tool_calls", 0, 0, "arguments"), ("tool_calls", -1, 0, "arguments", "answer"),
           ("observations",), ("observations", 1), ("parse_errors", 0), ("steps",), ("steps", 0),
           ("steps", 0, "looks"), ("steps", 0, "looks", 0), ("steps", 0, "looks", 0, "times"),
           ("steps", 0, "looks", 0, "video"), ("steps", 0, "looks", 0, "call"), ("steps", 0, "looks", 0, "start"),
           ("steps", 0, "looks", 0, "thumbnails"), ("steps", 0, "call_costs"), ("steps", 0, "call_costs", 0),
           ("steps", 0, "reward"), ("steps", 0, "reward_components"), ("suite",), ("error",), ("family",),
           ("termination_reason",)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.lists(st.tuples(st.sampled_from(_PLACES), _json), min_size=1, max_size=4),
       drop_steps=st.booleans())
def test_damaged_records_still_render(results, tmp_path, damage, drop_steps):
    record = _records(results)[0]
    if drop_steps:  # old records: looks rebuilt from (damaged) tool calls
        record.pop("steps")
    for place, value in damage:
        target = record
        try:
            for key in place[:-1]:
                target = target[key]
            target[place[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    path = tmp_path / "damaged.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    page = render_page(load_runs(path))
    assert 'id="viewer-status"' in page and HOSTILE not in page


# -- the real env keeps decoded frame times (and thumbnails when asked) -----------------------------

class _NoVision:
    name, cache_key, uses_focus = "none", "none", False

    def describe(self, frames, times, focus):
        return [[] for _ in frames]


def _vfr_video(path: Path) -> Path:
    """2 s at 5 fps (frames at 0, 0.2, ... 1.8 s)."""
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=5, options={"preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), format="rgb24")
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    return path


@pytest.mark.parametrize("thumbnails", [0, 32])
def test_real_env_reports_decoded_frame_times(tmp_path, thumbnails):
    from cvr_gym.envs.real import make_real_env

    _vfr_video(tmp_path / "v.mp4")
    task = {"id": "t", "family": "BU", "answer_type": "count", "answer": 1, "question": "How many?",
            "videos": [{"index": 1, "duration": 2.0, "fps": 5, "has_audio": False, "path": "v.mp4"}]}
    (tmp_path / "tasks.jsonl").write_text(json.dumps(task) + "\n")
    env = make_real_env(visual=_NoVision(), suite=str(tmp_path / "tasks.jsonl"),
                        perceiver_options={"cache": "private", "thumbnails": thumbnails})
    try:
        env.reset(seed=0)
        _, _, _, _, info = env.step({"name": "observe", "arguments": {
            "targets": [{"video": 1, "start": 0, "end": 2, "num_frames": 4}], "focus": ""}})
        (look,) = info["looks"]
        assert look["times"] == [0.25, 0.75, 1.25, 1.75]
        assert look["decoded_times"] == pytest.approx([0.2, 0.8, 1.2, 1.8])  # the nearest frames at 5 fps
        if thumbnails:
            assert len(look["thumbnails"]) == 4 and all(t.startswith("data:image/png;base64,") for t in look["thumbnails"])
        else:
            assert "thumbnails" not in look
        _, _, _, _, again = env.step({"name": "observe", "arguments": {
            "targets": [{"video": 1, "start": 0, "end": 2, "num_frames": 4}], "focus": ""}})
        assert again["looks"][0]["decoded_times"] == look["decoded_times"]  # served from the cache
    finally:
        env.close()
