"""Clip windows (times relative to the clip, as AgentCVR's executor offsets them by
``clip_begin``) and image-sequence videos (CrossVid's drone views) in both worlds."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.suites import load_suite
from cvr_gym.core.tasks import Task, VideoSpec
from cvr_gym.envs import make_sim_env

av = pytest.importorskip("av")
from cvr_gym.envs.real import make_real_env  # noqa: E402


class Brightness:
    """A visual backend that reports each frame's mean grey level (which frame was decoded)."""

    name = "brightness"
    uses_focus = False

    def describe(self, frames, times, focus):
        return [[Evidence(0, t, t, "visual", f"level {int(round(float(np.mean(f))))}")] for f, t in zip(frames, times)]


def _levels(obs):
    return [int(line.split("level ")[1]) for line in obs.splitlines() if "level " in line]


def _write_video(path, seconds=6.0, fps=10):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 4 * i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _suite(tmp_path, tasks):
    path = tmp_path / "suite.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return load_suite(str(path), split=None)


def _observe(env, video, start, end, frames):
    return env.step({"name": "observe", "arguments": {"targets": [
        {"video": video, "start": start, "end": end, "num_frames": frames}]}})


def test_real_env_reads_clip_times_relative_to_the_clip(tmp_path):
    _write_video(tmp_path / "movie.mp4")
    # PI as AgentCVR runs it: video 1 = beginning clip [0, 2], video 2 = ending clip [4, 6].
    task = {"id": "pi", "family": "PI", "question": "q", "options": ["a", "b"], "answer_type": "single",
            "answer": "A", "videos": [
                {"index": 1, "duration": 2.0, "fps": 10, "has_audio": False, "path": "movie.mp4", "clip": [0.0, 2.0]},
                {"index": 2, "duration": 2.0, "fps": 10, "has_audio": False, "path": "movie.mp4", "clip": [4.0, 6.0]}]}
    env = make_real_env(visual=Brightness(), suite=_suite(tmp_path, [task]),
                        perceiver_options={"cache": "private"})
    try:
        obs, _ = env.reset(seed=0)
        assert "Video 2: 2.0 s" in obs
        obs, *_, info = _observe(env, 2, 0.0, 2.0, 2)  # clip times 0.5, 1.5 = file times 4.5, 5.5
        levels = _levels(obs)
        assert levels == pytest.approx([4 * 45, 4 * 55], abs=4)  # frames 45 and 55 of the file
        assert [e.start for e in info["evidence"]] == [0.5, 1.5]  # reported in clip time
        obs, *_ = _observe(env, 1, 0.0, 100.0, 2)  # clamped to the clip: the hidden middle stays hidden
        assert "clamped to 0.0-2.0 s" in obs and max(_levels(obs)) < 4 * 20 + 4
    finally:
        env.close()


def test_image_sequence_video_in_the_real_env(tmp_path):
    from PIL import Image

    folder = tmp_path / "uav" / "frames" / "1" / "7-1"
    folder.mkdir(parents=True)
    for i in range(20):  # natural order: 2.png before 10.png
        Image.fromarray(np.full((24, 32, 3), 10 * i, np.uint8)).save(folder / f"{i}.png")
    task = {"id": "moc", "family": "MOC", "question": "q", "options": ["1", "2"], "answer_type": "single",
            "answer": "A", "videos": [{"index": 1, "duration": 2.0, "fps": 10, "has_audio": False,
                                        "path": "uav/frames/1/7-1"}]}
    env = make_real_env(visual=Brightness(), suite=_suite(tmp_path, [task]), perceiver_options={"cache": "private"})
    try:
        env.reset(seed=0)
        obs, *_ = _observe(env, 1, 0.0, 2.0, 4)  # times 0.25 .. 1.75 at 10 fps: frames 2, 7, 12, 17
        assert _levels(obs) == [20, 70, 120, 170]
        # AgentCVR's drone targets name frames: frames 5..9 are 0.5-1.0 s
        obs, *_, info = env.step({"action": "observe", "params": {"observation_targets": [
            {"video_index": 1, "start_frame": 5, "end_frame": 9, "num_frames": 1}]}})
        assert info["parse_error"] is None and _levels(obs) == [70]
        obs, *_ = env.step({"name": "listen", "arguments": {"video": 1}})
        assert "no audio" in obs
    finally:
        env.close()


def test_clip_must_match_the_duration():
    with pytest.raises(ValueError, match="clip's length"):
        VideoSpec(index=1, duration=5.0, clip=(1.0, 3.0))
    with pytest.raises(ValueError, match="0 <= begin < end"):
        VideoSpec(index=1, duration=1.0, clip=(3.0, 2.0))


def test_simulator_warns_when_tasks_have_no_scripts():
    task = Task(id="bare", family="NC", question="q", options=["a", "b"], answer_type="single", answer="A",
                videos=[{"index": 1, "duration": 10.0, "path": "x.mp4"}])
    with pytest.warns(UserWarning, match="1 of 1 tasks have no scripts"):
        make_sim_env(tasks=[task])
    scripted = task.model_copy(update={"videos": (VideoSpec(index=1, duration=10.0, script=(
        {"start": 0, "end": 1, "kind": "visual", "content": "x"},)),)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_sim_env(tasks=[scripted])


def test_symlinked_videos_folder_imports_and_plays(tmp_path):
    from cvr_gym.cli import main

    store = tmp_path / "big_disk" / "videos"  # the videos live elsewhere ...
    (store / "movie").mkdir(parents=True)
    _write_video(store / "movie" / "m.mp4", seconds=3.0)
    work = tmp_path / "work"
    work.mkdir()
    (work / "videos").symlink_to(store, target_is_directory=True)  # ... and are linked in
    qa = tmp_path / "NC.json"
    # BU-style per-video begin/end (as PEA) become clips instead of being dropped.
    qa.write_text(json.dumps([{"id": 0, "videos": ["movie/m.mp4", "movie/m.mp4"], "begin": [0, 1], "end": [1, 3],
                               "question": "Which?", "options": ["A. one", "B. two"], "answer": "A"}]))
    out = work / "nc.jsonl"
    assert main(["import", "crossvid", str(qa), "-o", str(out), "--videos", str(work / "videos")]) == 0
    suite = load_suite(str(out), split=None)
    task = suite[0]
    assert [v.path for v in task.videos] == ["videos/movie/m.mp4"] * 2
    assert [v.clip for v in task.videos] == [(0.0, 1.0), (1.0, 3.0)] and task.videos[1].duration == 2.0
    env = make_real_env(visual=Brightness(), suite=suite, perceiver_options={"cache": "private"})
    try:
        env.reset(seed=0)
        obs, *_ = _observe(env, 2, 0.0, 2.0, 1)  # clip time 1.0 = file time 2.0: frame 20
        assert _levels(obs) == pytest.approx([80], abs=4)
    finally:
        env.close()
    with pytest.raises(ValueError, match="leaves the data root"):
        suite.resolve_path("../big_disk/videos/movie/m.mp4")  # written paths still may not leave it


def test_agentcvr_sort_with_six_segments_plays_in_the_default_env(tmp_path):
    # data_synthesis/generate_full_dataset_sort.py: STEP_VARIANTS = [3, 4, 5, 6]; segments in display order.
    from pathlib import Path

    from cvr_gym.importers.agentcvr import convert_record
    from cvr_gym.importers.common import SourceRecord

    segments = {str(k): {"interval": [[10 * (k - 1), 10 * k]], "detailed_timeline": [
        {"start": 10 * (k - 1), "end": 10 * k, "visual": f"step shown as segment {k}", "caption": ""}]}
        for k in range(1, 7)}
    record = {"id": 3, "question": "Order the steps?", "answer": "3->1->6->2->5->4", "duration": 60,
              "segments": segments}
    task = convert_record(SourceRecord(record, "sort_synthesis/task_3.json", Path("sort_synthesis/task_3.json"))).task
    assert task.num_videos == 6 and task.videos[5].clip == (50.0, 60.0)
    env = make_sim_env(tasks=[task])
    assert env.action_space.max_videos == 6
    env.reset(seed=0)
    obs, *_ = env.step({"action": "observe", "params": {"observation_targets": [{"video_index": 6}]}})
    assert "step shown as segment 6" in obs and "0.2-9.8 s" in obs  # segment time, not the display time
    *_, info = env.step({"action": "answer", "final_answer": "3->1->6->2->5->4"})
    assert info["score"] == 1.0


def test_eva_preset_prompt_names_the_resolution_in_the_real_env(tmp_path):
    _write_video(tmp_path / "one.mp4", seconds=2.0)
    task = {"id": "e", "family": "NC", "question": "What happens?", "options": ["a", "b"], "answer_type": "single",
            "answer": "A", "videos": [{"index": 1, "duration": 2.0, "fps": 10, "has_audio": False, "path": "one.mp4"}]}
    env = make_real_env(visual=Brightness(), suite=_suite(tmp_path, [task]), preset="eva",
                        perceiver_options={"cache": "private"})
    try:
        obs, _ = env.reset(seed=0)
        # eval-eva.py: f"Video Length: {int(max(video_length - 0.5, 1))} seconds. Original video resolution: {p}p. "
        assert obs.startswith("Video Length: 1 seconds. Original video resolution: 32p. What happens?")
    finally:
        env.close()
