"""Importers: AgentCVR synthesised tasks and CrossVid QA files become valid, runnable suites.

Fixtures under tests/data/importers/ are hand-written in the sources' formats (one record per
AgentCVR generator type and CrossVid task, plus malformed ones). Videos and UAV frame folders are
made in a temporary copy by the tests, so nothing binary is committed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym import ToolCall, load_suite, score_answer
from cvr_gym.cli import main
from cvr_gym.importers import (
    CROSSVID_TASKS, FAMILY_OF, GENERATOR_TYPES, AgentCVROptions, CrossVidOptions, import_agentcvr, import_crossvid,
    to_our_answer, write_suite,
)
from cvr_gym.importers.captions import caption_items
from cvr_gym.importers.common import ImportReport, RecordError, SourceRecord, convert_all

DATA = Path(__file__).parent / "data" / "importers"
AGENTCVR = DATA / "agentcvr"
CROSSVID = DATA / "crossvid"

VIDEO_FILES = [
    "behavior/bu_a.mp4", "behavior/bu_b.mp4", "behavior/bu_c.mp4", "movie/nc_1.mp4", "movie/nc_2.mp4",
    "assembly/pea_1.mp4", "assembly/pea_2.mp4", "assembly/pea_3.mp4", "movie/pi_1.mp4", "cook/fsa_a.mp4",
    "cook/fsa_b.mp4", "cook/pss_1.mp4", "cook/ccqa_a.mp4", "cook/ccqa_b.mp4",
]


def make_video(path: Path, seconds: float = 4.0, fps: int = 10, audio: bool = False) -> None:
    """A tiny MPEG-4 file (16x16) of ``seconds``, optionally with a silent AAC track."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = 16, 16, "yuv420p"
        sound = container.add_stream("aac", rate=16000) if audio else None
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), (i * 7) % 255, np.uint8), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, int(seconds * 16000)), np.float32), format="fltp",
                                               layout="mono")
            frame.sample_rate = 16000
            for packet in list(sound.encode(frame)) + list(sound.encode()):
                container.mux(packet)


# -- AgentCVR ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def agentcvr(tmp_path_factory):
    report = import_agentcvr(str(AGENTCVR))
    out = tmp_path_factory.mktemp("agentcvr") / "agentcvr.jsonl"
    suite = write_suite(report.tasks, out)
    return report, out, {t.id: t for t in suite}


def test_agentcvr_every_generator_type_is_imported_and_mapped_to_a_family(agentcvr):
    report, _, tasks = agentcvr
    assert set(report.kinds) == set(GENERATOR_TYPES)
    for task, kind in zip(report.tasks, report.kinds):
        assert task.family == FAMILY_OF[kind]
        assert task.meta["source_type"] == kind
        assert task.source == "agentcvr" and task.id.startswith(f"agentcvr-{kind}-")
    assert len(tasks) == len(report.tasks) == 11


def test_agentcvr_bad_records_are_reported_and_do_not_stop_the_rest(agentcvr):
    report, _, _ = agentcvr
    skipped = {p.where: (p.kind, p.code) for p in report.skipped}
    assert skipped == {
        "cooking_synthesis/task_1.json": ("cooking", "bad-json"),
        "assembly_synthesis/task_1.json": ("assembly", "bad-answer"),
        "misc/unknown.json": ("?", "unknown-type"),
        "movie_synthesis/task_1.json": ("movie", "empty-script"),
        "sort_synthesis/task_1.json": ("sort", "bad-answer"),
    }
    assert all(p.message for p in report.skipped)
    assert any("generation_errors.json" in n for n in report.notes)  # error logs are noted, not read


def test_agentcvr_answers_become_typed_answers(agentcvr):
    _, _, t = agentcvr
    assert (t["agentcvr-assembly-0"].answer_type, t["agentcvr-assembly-0"].answer) == ("single", "B")
    assert (t["agentcvr-behavior-0"].answer_type, t["agentcvr-behavior-0"].answer) == ("multi", ["A", "C"])
    assert t["agentcvr-behavior-1"].answer == ["D"]  # one correct video is still a multi-select question
    assert (t["agentcvr-cooking-0"].answer_type, t["agentcvr-cooking-0"].answer) == ("single", "B")
    fsa = t["agentcvr-grounding-0"]
    assert (fsa.answer_type, fsa.answer, fsa.answer_video) == ("interval", [10.0, 22.0], 2)
    assert [(s.video, s.start, s.end) for s in fsa.evidence] == [(1, 8.0, 17.0), (2, 10.0, 22.0)]
    assert t["agentcvr-movie-0"].answer == "C"
    assert (t["agentcvr-plot-0"].answer, len(t["agentcvr-plot-0"].options)) == ("B", 6)
    pss = t["agentcvr-sort-0"]
    assert (pss.answer_type, pss.answer) == ("order", ["B", "C", "A"])  # "2->3->1"
    assert pss.options[1] == "Segment 2 (video 2)"
    # Each segment its own video, its script in segment time (run_PSS_agent.py's clip_begin).
    assert [v.clip for v in pss.videos] == [(0.0, 12.0), (12.0, 24.0), (24.0, 40.0)]
    assert pss.videos[1].script[0].start == 0.0 and "avocado" in pss.videos[1].script[0].content
    moc = t["agentcvr-uav_count-0"]
    assert (moc.answer, moc.options, moc.meta["count"]) == ("B", ("1", "2", "3", "4"), 2)
    assert t["agentcvr-uav_position-0"].answer == "B"


def test_agentcvr_options_lose_their_labels_only(agentcvr):
    _, _, t = agentcvr
    assert t["agentcvr-behavior-0"].options == ("Video 1", "Video 2", "Video 3", "Video 4")
    assert t["agentcvr-plot-0"].options[0] == "The crew held a party."
    assert t["agentcvr-assembly-0"].options[3] == "None of them"


def test_agentcvr_scripts_keep_visuals_and_read_captions_as_audio(agentcvr):
    _, _, t = agentcvr
    assembly = t["agentcvr-assembly-0"]
    assert [v.duration for v in assembly.videos] == [52.0, 88.0, 60.0]  # video_1 first, ends of last clips
    assert assembly.videos[1].script[2].attributes == {"action_type": "DETACH"}
    assert not assembly.videos[0].has_audio  # no captions at all: no audio track

    wok = t["agentcvr-cooking-0"].videos[1]
    assert wok.has_audio
    first = [(i.kind, i.content) for i in wok.script if i.start == 0]
    assert ("sound", "Oil sizzles") in first and ("speech", "Get the wok smoking hot.") in first
    assert ("speech", "Toss, don't stir.") in [(i.kind, i.content) for i in wok.script]  # quotes removed
    assert not [i for i in wok.script if i.start == 27 and i.kind != "visual"]  # "..." is silence

    movie = t["agentcvr-movie-0"].videos[2]
    late = sorted((i.kind, i.content) for i in movie.script if i.start == 30)
    assert [x for x in late if x[0] != "visual"] == [("sound", "Car horn"), ("sound", "Footsteps"),
                                                    ("speech", "You're late.")]

    ending = t["agentcvr-plot-0"].videos[1]  # its times were those of the whole story (50..70 s)
    assert ending.duration == 20.0 and (ending.script[0].start, ending.script[-1].end) == (0.0, 20.0)

    view_a = t["agentcvr-uav_count-0"].videos[0]
    assert view_a.duration == 6.0 and [(i.start, i.end) for i in view_a.script] == [(0, 2), (2, 4), (4, 6)]

    assert t["agentcvr-grounding-1"].videos[1].duration == 18.0  # unified "videos" spelling is read


def test_agentcvr_warnings_name_what_was_changed(agentcvr):
    report, _, _ = agentcvr
    warnings = {(p.where, p.code) for p in report.warnings}
    assert ("cooking_synthesis/task_0.json", "dropped-entries") in warnings
    assert ("cooking_synthesis/task_0.json", "script-past-duration") in warnings


def test_caption_modes():
    auto = caption_items(0, 2, "[Door creaks] Who's there? [Footsteps]")
    assert [(i.kind, i.content) for i in auto] == [("sound", "Door creaks"), ("sound", "Footsteps"),
                                                   ("speech", "Who's there?")]
    assert caption_items(0, 2, "[Silence]") == [] and caption_items(0, 2, "") == [] and caption_items(0, 2, None) == []
    assert [i.kind for i in caption_items(0, 2, "[Siren] Stop!", "text")] == ["text"]
    assert caption_items(0, 2, "Stop!", "skip") == []


def test_imported_agentcvr_suite_runs_in_the_simulator(agentcvr):
    _, out, tasks = agentcvr
    env = gym.make("CVRSim-v0", suite=str(out), split=None)
    try:
        for task in tasks.values():
            obs, info = env.reset(seed=0, options={"task_id": task.id})
            assert task.question[:30] in obs
            video = task.videos[0]
            _, _, terminated, truncated, info = env.step(ToolCall.observe(1, 0, video.duration, num_frames=8))
            assert not (terminated or truncated) and info["evidence"], task.id
            audio = next((v for v in task.videos if v.has_audio), None)
            if audio is not None:
                _, _, terminated, _, info = env.step(ToolCall.listen(audio.index, 0, audio.duration))
                assert not terminated and info["parse_error"] is None
            _, reward, terminated, _, info = env.step(ToolCall.answer(task.answer))
            assert terminated and info["score"] == 1.0, task.id
    finally:
        env.close()


def test_agentcvr_forced_type_and_single_file(tmp_path):
    report = import_agentcvr(str(AGENTCVR / "sort_synthesis" / "task_0.json"), AgentCVROptions(type="sort"))
    assert report.imported == 1 and report.kinds == ["sort"]
    with pytest.raises(ValueError, match="unknown AgentCVR generator type"):
        import_agentcvr(str(AGENTCVR), AgentCVROptions(type="nope"))


def test_cli_agentcvr_writes_suite_report_and_exit_status(tmp_path, capsys):
    out, rep = tmp_path / "out" / "suite.jsonl", tmp_path / "report.json"
    assert main(["import", "agentcvr", str(AGENTCVR), "-o", str(out), "--report", str(rep)]) == 0
    assert len(load_suite(out)) == 11
    text = capsys.readouterr().out
    assert "Skipped records" in text and "unknown-type" in text and "uav_position" in text
    report = json.loads(rep.read_text())
    assert report["imported"] == 11 and len(report["skipped"]) == 5
    nothing = tmp_path / "nothing.jsonl"
    assert main(["import", "agentcvr", str(AGENTCVR / "misc"), "-o", str(nothing)]) == 1
    assert not nothing.exists()
    assert main(["import", "agentcvr", str(tmp_path / "missing"), "-o", str(nothing)]) == 2


def test_a_converter_bug_is_reported_not_raised():
    def convert(record):
        if record.data == "boom":
            raise KeyError("x")
        raise RecordError("no", "bad")

    report = convert_all([SourceRecord("boom", "a.json", Path("a.json")), SourceRecord(1, "b.json", Path("b.json"))],
                         convert, ImportReport("test"))
    assert [(p.where, p.code) for p in report.skipped] == [("a.json", "error"), ("b.json", "bad")]


# -- CrossVid ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crossvid_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("crossvid") / "CrossVid"
    shutil.copytree(CROSSVID, root)
    for i, name in enumerate(VIDEO_FILES):
        make_video(root / "videos" / name, audio=(i == 0))
    for view in (1, 2):
        frames = root / "uav" / "frames" / str(view) / f"7-{view}"
        frames.mkdir(parents=True)
        for n in range(60):
            (frames / f"{n:06d}.jpg").write_bytes(b"")
    return root


def crossvid_options(root: Path, **kw) -> CrossVidOptions:
    return CrossVidOptions(data_root=root, videos_dir=root / "videos", uav_dir=root / "uav", **kw)


@pytest.fixture(scope="module")
def crossvid(crossvid_root):
    report = import_crossvid(crossvid_root / "QA", crossvid_options(crossvid_root))
    suite = write_suite(report.tasks, crossvid_root / "crossvid.jsonl")
    return report, suite, {t.id: t for t in suite}


def test_crossvid_every_task_is_imported_without_scripts(crossvid, crossvid_root):
    report, suite, tasks = crossvid
    assert set(report.kinds) == set(CROSSVID_TASKS)
    for task in tasks.values():
        assert task.family == task.meta["source_task"] and task.source == "crossvid"
        for video in task.videos:
            assert video.script == () and video.path and not video.path.startswith("/")
            found = suite.resolve_path(video.path).exists()  # resolves inside the data root
            sources = task.meta["duration_source"]  # one per file (PI and PSS clip one file)
            assert found == (sources[min(video.index, len(sources)) - 1] in ("file", "frames"))
    bu = tasks["crossvid-BU-0"]
    assert [v.path for v in bu.videos] == ["videos/behavior/bu_a.mp4", "videos/behavior/bu_b.mp4",
                                           "videos/behavior/bu_c.mp4"]
    assert bu.videos[0].duration == pytest.approx(4.0, abs=0.1) and bu.videos[0].has_audio
    assert not bu.videos[1].has_audio and bu.meta["duration_source"] == ["file"] * 3
    cc = tasks["crossvid-CC-0"]  # files absent: durations from the record's "duration" list
    assert [v.duration for v in cc.videos] == [120.5, 98.0] and cc.meta["duration_source"] == ["record"] * 2
    msr = tasks["crossvid-MSR-0"]  # frame folders: 60 frames at 30 fps
    assert [v.path for v in msr.videos] == ["uav/frames/1/7-1", "uav/frames/2/7-2"]
    assert [v.duration for v in msr.videos] == [2.0, 2.0]


def test_crossvid_bad_records_and_outside_paths_are_refused_per_record(crossvid):
    report, _, _ = crossvid
    assert {p.where: p.code for p in report.skipped} == {
        "BU.json[1]": "path-outside-root", "BU.json[2]": "path-outside-root", "BU.json[3]": "missing-field",
        "NC.json[1]": "needs-videos", "CC.json[1]": "bad-answer", "PEA.json[1]": "bad-interval",
        "FSA.json[1]": "bad-interval", "PSS.json[1]": "bad-answer", "MSR.json[1]": "bad-placeholder",
        "MOC.json[1]": "needs-videos",
    }
    assert any("notes.json" in n for n in report.notes)


def test_crossvid_default_duration_fills_in_missing_videos(crossvid_root):
    report = import_crossvid(crossvid_root / "QA" / "NC.json", crossvid_options(crossvid_root, default_duration=30))
    assert report.imported == 2 and not report.skipped
    task = {t.id: t for t in report.tasks}["crossvid-NC-1"]
    assert task.videos[0].duration == 30 and task.meta["duration_source"] == ["default", "file"]
    assert [p.code for p in report.warnings] == ["default-duration"]
    moc = import_crossvid(crossvid_root / "QA" / "MOC.json", crossvid_options(crossvid_root, default_duration=30))
    assert [p.code for p in moc.skipped] == ["needs-uav-data"]  # the boxes that name the objects are missing


def test_crossvid_task_specific_fields(crossvid):
    report, _, t = crossvid
    pea = t["crossvid-PEA-0"]
    assert pea.meta["clips"] == [[0.5, 3.5], [1.0, 4.0], [0.0, 2.5]]
    # Each PEA video is the clip CrossVid shows: times from 0 at begin, duration = end - begin.
    assert [v.clip for v in pea.videos] == [(0.5, 3.5), (1.0, 4.0), (0.0, 2.5)]
    assert [v.duration for v in pea.videos] == [3.0, 3.0, 2.5] and pea.options[3] == "wrong position"
    pi = t["crossvid-PI-0"]  # beginning and ending are two clips of one file; the middle is in neither
    assert pi.num_videos == 2 and pi.meta["ending"] == [[3.0, 3.5], [3.5, 4.0]] and pi.answer == "C"
    assert pi.videos[1].clip == (3.0, 4.0) and pi.videos[0].path == pi.videos[1].path
    assert pi.videos[0].clip[1] <= pi.videos[1].clip[0]
    fsa = t["crossvid-FSA-0"]
    assert (fsa.answer, fsa.answer_video, fsa.meta["ref_segment"]) == ([1.0, 3.0], 2, [0.5, 1.5])
    pss = t["crossvid-PSS-0"]
    assert pss.answer == ["B", "C", "A"] and pss.options[2] == "Segment 3 (video 3)"
    assert [v.clip for v in pss.videos] == [(2.0, 3.0), (0.0, 1.0), (1.0, 2.0)]  # no times in the text
    assert "1.6" not in pss.question + "".join(pss.options)
    msr = t["crossvid-MSR-0"]
    assert "{" not in msr.question and "obj_1 is first seen in video 1 (view A) at 0.07 s, box [100, 40, 140, 70] px" \
        in msr.question and "obj_2 is first seen in video 2 (view B) at 0.1 s" in msr.question
    assert msr.options[1] == "No, obj_1 is one lane to the left"
    assert t["crossvid-CCQA-1"].scoring_points == ("A garnishes with spring onions", "B garnishes with coriander")
    warnings = {(p.where, p.code) for p in report.warnings}
    assert {("PI.json[0]", "joined-spans"), ("PSS.json[0]", "joined-spans"),
            ("MSR.json[0]", "frame-folders")} <= warnings


# CrossVid's metrics, computed by hand for sample predictions (raw model output -> score).
CROSSVID_CASES = [
    # BU: correct iff output == "".join(answer) = "AC"
    ("crossvid-BU-0", "AC", 1.0), ("crossvid-BU-0", "A", 0.0), ("crossvid-BU-0", "ACB", 0.0), ("crossvid-BU-0", "B", 0.0),
    # single choice (NC, CC, PEA, PI, MSR, MOC): output == answer letter
    ("crossvid-NC-0", "B", 1.0), ("crossvid-NC-0", "A", 0.0), ("crossvid-CC-0", "A", 1.0), ("crossvid-CC-0", "D", 0.0),
    ("crossvid-PEA-0", "D", 1.0), ("crossvid-PEA-0", "A", 0.0), ("crossvid-PI-0", "C", 1.0), ("crossvid-PI-0", "B", 0.0),
    ("crossvid-MSR-0", "B", 1.0), ("crossvid-MSR-0", "C", 0.0), ("crossvid-MOC-0", "C", 1.0), ("crossvid-MOC-0", "B", 0.0),
    # FSA: IoU of "s,e" with [1, 3]: [2,4] -> 1/3, [1.5,2.5] -> 1/2, [0,4] -> 2/4, [0,1] -> 0
    ("crossvid-FSA-0", "1,3", 1.0), ("crossvid-FSA-0", "2,4", 1 / 3), ("crossvid-FSA-0", "1.5,2.5", 0.5),
    ("crossvid-FSA-0", "0,4", 0.5), ("crossvid-FSA-0", "0,1", 0.0),
    # PSS: output == "2->3->1"
    ("crossvid-PSS-0", "2->3->1", 1.0), ("crossvid-PSS-0", "1->2->3", 0.0), ("crossvid-PSS-0", "3->2->1", 0.0),
    # CCQA: sum(coverage + correctness) / (2 * points), with a judge that marks a point covered and
    # correct when the output states it: 2 of 3 points -> (2 + 2) / 6; none -> 0
    ("crossvid-CCQA-0", "Video A uses a wok and adds soy sauce at the end.", 4 / 6),
    ("crossvid-CCQA-0", "Both cooks make rice.", 0.0),
    ("crossvid-CCQA-0", "A uses a wok, adds soy sauce at the end; B fries the egg separately.", 1.0),
]


@pytest.mark.parametrize(("task_id", "prediction", "expected"), CROSSVID_CASES)
def test_scores_match_crossvid_metrics(crossvid, task_id, prediction, expected):
    task = crossvid[2][task_id]
    result = score_answer(task, to_our_answer(task, prediction))
    assert result.score == pytest.approx(expected), result


def test_where_our_scorers_are_more_lenient_than_crossvid(crossvid):
    """Documented differences: CrossVid compares raw strings; we read the answer first."""
    t = crossvid[2]
    assert score_answer(t["crossvid-BU-0"], "CA").score == 1.0  # CrossVid: "CA" != "AC" -> 0
    assert score_answer(t["crossvid-NC-0"], "(B)").score == 1.0  # CrossVid: "(B)" != "B" -> 0
    assert score_answer(t["crossvid-FSA-0"], "3,1").score == 1.0  # CrossVid keeps the reversed interval -> IoU 0
    # CrossVid's segment-number order "2->3->1" is read as it stands (letters work too).
    assert score_answer(t["crossvid-PSS-0"], "2->3->1").score == 1.0
    assert score_answer(t["crossvid-PSS-0"], ["B", "C", "A"]).score == 1.0


def test_cli_crossvid(crossvid_root, tmp_path, capsys):
    out = crossvid_root / "cli.jsonl"
    assert main(["import", "crossvid", str(crossvid_root / "QA"), "-o", str(out),
                 "--videos", str(crossvid_root / "videos")]) == 0
    suite = load_suite(out)
    assert len(suite) == 11 and suite.data_root == crossvid_root.resolve()
    assert "needs-videos" in capsys.readouterr().out
    # Videos outside the output's folder cannot be named by the suite: refused up front.
    assert main(["import", "crossvid", str(crossvid_root / "QA"), "-o", str(tmp_path / "x.jsonl"),
                 "--videos", str(crossvid_root / "videos")]) == 2
    assert main(["import", "crossvid", str(crossvid_root / "QA" / "PI.json"), "-o", str(crossvid_root / "pi.jsonl"),
                 "--task", "PI"]) == 0


def test_crossvid_unreadable_video_is_reported(tmp_path):
    (tmp_path / "videos" / "movie").mkdir(parents=True)
    (tmp_path / "videos" / "movie" / "broken.mp4").write_bytes(b"not a video at all")
    make_video(tmp_path / "videos" / "movie" / "ok.mp4", seconds=2)
    qa = tmp_path / "NC.json"
    qa.write_text(json.dumps([{"id": 0, "videos": ["movie/broken.mp4", "movie/ok.mp4"], "question": "Which?",
                               "options": ["A. one", "B. two"], "answer": "A"}]))
    report = import_crossvid(qa, crossvid_options(tmp_path))
    assert [p.code for p in report.skipped] == ["unreadable-video"] and "broken.mp4" in report.skipped[0].message


def _mutations(record, values=(None, 7, "x", [], {}, [[1, 2]], True)):
    """The record with each field (and each field of its first nested objects) replaced by junk."""
    for key in list(record):
        for value in values:
            yield {**record, key: value}
        inner = record[key]
        if isinstance(inner, dict):
            for sub in _mutations(inner, values):
                yield {**record, key: sub}
        elif isinstance(inner, list) and inner and isinstance(inner[0], dict):
            for sub in _mutations(inner[0], values):
                yield {**record, key: [sub, *inner[1:]]}


def test_junk_in_any_field_is_a_reported_problem_never_a_crash(crossvid_root):
    from cvr_gym.importers.agentcvr import convert_record as agentcvr_record
    from cvr_gym.importers.crossvid import convert_record as crossvid_record

    cases = []
    for path in sorted(AGENTCVR.rglob("task_0.json")) + sorted(AGENTCVR.rglob("m*_task_0.json")):
        cases += [(agentcvr_record, SourceRecord(m, path.name, path), ()) for m in _mutations(json.loads(path.read_text()))]
    options = crossvid_options(crossvid_root)
    for path in sorted((crossvid_root / "QA").glob("[A-Z]*.json")):
        first = json.loads(path.read_text())[0]
        cases += [(crossvid_record, SourceRecord(m, path.name, path), (options,)) for m in _mutations(first)]
    assert len(cases) > 500
    for convert, record, extra in cases:
        try:
            convert(record, *extra)
        except RecordError:
            pass
