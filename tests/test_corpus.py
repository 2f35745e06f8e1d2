"""The bundled corpus of rendered videos: suite, files, generator, readers, renderer, build-scripts."""

from __future__ import annotations

import json
import random
import shutil

import gymnasium as gym
import numpy as np
import pytest

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym.core.actions import ToolCall
from cvr_gym.core.evidence import Evidence
from cvr_gym.core.suites import data_dir, load_suite
from cvr_gym.core.tasks import FAMILIES
from cvr_gym.data.corpus import generate_corpus
from cvr_gym.data.corpus.layout import shapes
from cvr_gym.data.corpus.match import lines_like, phrase_score, ratio
from cvr_gym.data.corpus.plan import Scene, Sound, VideoPlan
from cvr_gym.data.families import CORPUS_READERS as READERS
from cvr_gym.data.readers import corpus_reader, read_corpus_answer
from cvr_gym.data.render import RenderError, render_corpus, render_video, task_line, text_width
from cvr_gym.core.view import TaskView
from cvr_gym.evaluation import make_agent, play_episode
from cvr_gym.perception.decode import probe

CORPUS = data_dir() / "corpus"
SEED, VIDEOS = 0, 40  # the command in envs_data/corpus/README.md
has_espeak = shutil.which("espeak-ng") is not None


@pytest.fixture(scope="module")
def suite():
    return load_suite("corpus", split="test")


@pytest.fixture(scope="module")
def sim_env(suite):
    env = gym.make("CVRSim-v0", suite=suite, privileged_info=True, max_evidence_per_target=100,
                   max_steps=64, frame_budget=4096)
    yield env
    env.close()


def run_oracle(env, task_id):
    """The oracle agent on ``task_id``: its score and the evidence each of its steps returned."""
    steps = []
    agent = make_agent("oracle", action_space=env.action_space)
    info = play_episode(env, agent, options={"task_id": task_id},
                        on_step=lambda step: steps.append(list(step.info["evidence"])))
    return info["score"] or 0.0, steps


# -- the bundled suite -------------------------------------------------------------------------------
def test_suite_validates_and_covers_every_family(suite):
    assert len(suite) >= 40
    assert set(suite.families) == set(FAMILIES)  # the ten CrossVid families plus AUD
    assert len({v.path for t in suite for v in t.videos}) >= 24


def test_every_file_exists_and_matches_its_spec(suite):
    specs = {v.path: v for t in suite for v in t.videos}
    total = 0
    for path, spec in specs.items():
        file = suite.resolve_path(path)
        assert file.is_file(), path
        info = probe(file, validate=False)
        assert abs(info.duration - spec.duration) < 0.05, (path, info.duration, spec.duration)
        assert abs(info.fps - spec.fps) < 1e-6 and info.has_audio == spec.has_audio, path
        assert 20 <= spec.duration <= 180
        total += file.stat().st_size
    assert total <= 30e6


def test_regenerating_with_the_same_seed_gives_the_bundled_tasks():
    corpus = generate_corpus(SEED, VIDEOS)
    bundled = (CORPUS / "test.jsonl").read_text(encoding="utf-8").splitlines()
    assert [task_line(t) for t in corpus.splits["test"]] == bundled
    again = generate_corpus(SEED, VIDEOS)
    assert again.tasks == corpus.tasks and again.plans == corpus.plans
    assert generate_corpus(SEED + 1, VIDEOS).tasks != corpus.tasks


def test_more_videos_keep_the_existing_groups():
    small, big = generate_corpus(3, 1), generate_corpus(3, 60)
    assert big.tasks[: len(small.tasks)] == small.tasks
    assert {t.family for t in small.tasks} == set(FAMILIES)
    assert "train" in big.splits and not set(t.id for t in big.splits["train"]) & set(t.id for t in small.tasks)


def test_every_drawn_line_fits_the_frame():
    for seed in range(3):
        for plan in generate_corpus(seed, 1).plans:
            for scene in plan.scenes:
                assert len(scene.lines) <= 3
                for line in scene.lines:
                    assert text_width(line) <= plan.size[0] - 20, line


def test_scripts_use_the_offline_vocabulary(suite):
    for task in suite:
        for v in task.videos:
            for item in v.script:
                if item.kind == "object":
                    count, colour = item.attributes["count"], item.attributes["colour"]
                    assert item.content == f"{count} {colour} {'object' if count == 1 else 'objects'}"
                elif item.kind == "visual":
                    assert item.content.endswith(" background")
                elif item.kind == "sound":
                    assert item.content in ("high beep", "low beep", "beep", "noise burst")


# -- readers -----------------------------------------------------------------------------------------
def test_each_corpus_question_is_claimed_by_its_own_reader_only(suite):
    for task in suite:
        view = TaskView.from_task(task)
        claims = [r.code for r in READERS if r.claims(view)]
        assert claims == [task.family], (task.id, claims)


def test_corpus_readers_leave_generated_questions_alone():
    for task in load_suite("default", split="test"):
        assert corpus_reader(TaskView.from_task(task)) is None, task.question


def test_oracle_in_the_simulator_answers_every_task(suite, sim_env):
    scores = [run_oracle(sim_env, t.id)[0] for t in suite]
    assert min(scores) > 0.95, scores


def test_readers_tolerate_ocr_and_asr_slips(suite, sim_env):
    """Spaces dropped, a letter misread, case changed: the fuzzy readers still answer."""
    rng = random.Random(0)

    def slip(text: str) -> str:
        chars = list(text)
        spaces = [i for i, c in enumerate(chars) if c == " "]
        if spaces and rng.random() < 0.5:
            del chars[rng.choice(spaces)]
        letters = [i for i, c in enumerate(chars) if c.isalpha()]
        if letters and len(letters) > 6 and rng.random() < 0.5:
            i = rng.choice(letters)
            chars[i] = {"O": "0", "I": "1", "S": "5", "E": "F"}.get(chars[i], chars[i])
        return "".join(chars).lower() if rng.random() < 0.3 else "".join(chars)

    scores, blind = [], []
    for task in suite:
        _, steps = run_oracle(sim_env, task.id)
        evidence = [ev for step in steps for ev in step]
        obs, info = sim_env.reset(options={"task_id": task.id})
        for ev in evidence:
            if ev.kind in ("text", "speech"):
                ev.content = slip(ev.content)
        view = TaskView.from_info(info)
        scores.append(sim_env.step(ToolCall.answer(read_corpus_answer(view, evidence)))[4]["score"])
        sim_env.reset(options={"task_id": task.id})
        blind.append(sim_env.step(ToolCall.answer(read_corpus_answer(view, [])))[4]["score"])
    assert np.mean(scores) >= 0.9, scores
    assert np.mean(blind) < 0.5


def test_perceived_scripts_match_the_suite(suite):
    perceived = load_suite(CORPUS / "perceived.jsonl")
    assert [t.id for t in perceived] == [t.id for t in suite]
    for a, b in zip(suite, perceived):
        def spec(t):
            return [(v.path, v.duration, v.has_audio) for v in t.videos]

        assert spec(a) == spec(b)
        assert all(v.script for v in b.videos) and a.evidence == b.evidence and a.answer == b.answer
    env = gym.make("CVRSim-v0", suite=perceived, privileged_info=True, max_evidence_per_target=100, max_steps=64,
                   frame_budget=4096)
    scores = [run_oracle(env, t.id)[0] for t in perceived]
    assert np.mean(scores) > 0.95, scores


def test_speech_reader_with_sentences_run_together():
    view = TaskView("In one of the videos the host says the secret ingredient out loud. What is it?",
                    ("orange", "honey", "mint", "garlic"), family="AUD", durations=(60.0, 60.0))
    heard = [Evidence(2, 0.1, 76.8, "speech", "Welcome to kitchen talk. I do not like orange at all. "
                                              "The secret ingredient is mint.")]
    assert read_corpus_answer(view, heard) == "C"
    assert read_corpus_answer(view, [Evidence(1, 3, 5, "speech", "The secret ingredient in mimt")]) == "C"


def test_matching_helpers():
    assert ratio("UNDERTHEGRILL", "UNDER THE GRILL") > 0.9
    assert phrase_score("The secret ingredient in honey", "secret ingredient") == 1.0
    assert read_corpus_answer(TaskView("What is the capital of France?"), []) is None


# -- the real env on bundled videos ------------------------------------------------------------------
@pytest.mark.real
def test_real_default_suite_is_the_corpus():
    env = gym.make("CVRReal-v0")
    try:
        obs, info = env.reset(seed=0)
        assert env.unwrapped.suite.name == "corpus"
        assert info["task_id"].startswith("corpus-")
    finally:
        env.close()


@pytest.mark.real
@pytest.mark.parametrize("family", ["NC", "AUD"])
def test_real_episode_recovers_text_and_speech(suite, sim_env, family):
    task = next(t for t in suite if t.family == family)
    env = gym.make("CVRReal-v0", suite=suite, privileged_info=True, max_evidence_per_target=100,
                   max_steps=64, frame_budget=4096)
    try:
        (real_score, real_steps), (sim_score, sim_steps) = run_oracle(env, task.id), run_oracle(sim_env, task.id)
    finally:
        env.close()
    assert real_score == sim_score == 1.0
    seen = [ev for step in real_steps for ev in step]
    for ev in (ev for step in sim_steps for ev in step):
        if ev.kind == "text":
            assert lines_like(seen, ev.content, 0.8, video=ev.video), ev.content
        if ev.kind == "speech":
            heard = [r.content for r in seen if r.kind == "speech" and r.video == ev.video]
            assert max((ratio(h, ev.content) for h in heard), default=0) >= 0.7, (ev.content, heard)


# -- rendering and build-scripts on tiny videos ------------------------------------------------------
def tiny_plan(path: str, title: str, speech: str = "") -> VideoPlan:
    rng = random.Random(title)
    scenes = (Scene(0.0, 2.0, "white", (title,), shapes(rng, {"red": 2, "blue": 1})),
              Scene(2.0, 4.0, "blue", ("STEP TWO", "ADD EGGS"), shapes(rng, {"yellow": 3})),
              Scene(4.0, 6.0, "black", ("THE END",)))
    sounds = [Sound(2.5, 3.1, "tone", hz=1500.0), Sound(4.5, 4.9, "tone", hz=300.0)]
    if speech:
        sounds.append(Sound(0.2, 1.9, "speech", speech))
    return VideoPlan(path, 6.0, scenes, tuple(sounds))


@pytest.mark.real
def test_build_scripts_round_trip(tmp_path):
    from cvr_gym.cli import main
    from cvr_gym.data.build_scripts import build_suite_scripts

    plans = [tiny_plan("videos/a.mp4", "HELLO WORLD"), tiny_plan("videos/b.mp4", "ROUND 42")]
    for plan in plans:
        render_video(plan, tmp_path / plan.path)
    out = tmp_path / "scripts.jsonl"
    assert main(["build-scripts", "--videos", str(tmp_path / "videos"), "--out", str(out), "--no-progress"]) == 0
    rows = {row["path"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"a.mp4", "b.mp4"}
    for plan in plans:
        row = rows[plan.path.split("/")[1]]
        assert row["duration"] == pytest.approx(6.0) and row["has_audio"]
        got = {(i["kind"], i["content"]): i for i in row["script"]}
        for item in plan.script():
            hit = got.get((item.kind, item.content))
            assert hit is not None, (item.kind, item.content, sorted(got))
            assert hit["start"] <= item.start + 0.6 and hit["end"] >= item.end - 0.6, (item, hit)

    # As a suite: the same task, scripts replaced by perceived ones, and the simulator sees them.
    task = {"id": "tiny", "family": "CC", "question": "How many yellow objects?", "answer_type": "count", "answer": 3,
            "videos": [{"index": i, "duration": 6.0, "fps": 10, "path": p.path, "script": []}
                       for i, p in enumerate(plans, start=1)]}
    (tmp_path / "tasks.jsonl").write_text(json.dumps(task) + "\n")
    with pytest.raises(ValueError, match="overwrite"):
        build_suite_scripts(tmp_path / "tasks.jsonl", tmp_path / "tasks.jsonl")
    (written,) = build_suite_scripts(tmp_path / "tasks.jsonl", tmp_path / "perceived.jsonl")
    perceived = load_suite(written)
    assert [t.id for t in perceived] == ["tiny"] and perceived[0].meta["scripts"] == "perceived"
    env = gym.make("CVRSim-v0", suite=perceived, split=None)
    env.reset(options={"task_id": "tiny"})
    obs, *_ , info = env.step({"name": "observe", "arguments": {"targets": [{"video": 1, "start": 2, "end": 4,
                                                                              "num_frames": 2}]}})
    assert {"STEP TWO", "ADD EGGS", "3 yellow objects"} <= {ev.content for ev in info["evidence"]}


def test_render_fails_clearly_without_espeak(tmp_path, monkeypatch):
    import cvr_gym.data.render as render

    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="espeak-ng"):
        render.find_espeak()
    corpus = generate_corpus(0, 1, families="AUD")
    with pytest.raises(RenderError, match="apt-get install espeak-ng"):
        render_corpus(corpus, tmp_path)
    assert not (tmp_path / "videos").exists()


def test_render_cli_tasks_only(tmp_path):
    from cvr_gym.cli import main

    assert main(["render", "--suite-out", str(tmp_path), "--videos", "1", "--families", "MOC,PSS",
                 "--tasks-only", "--no-progress"]) == 0
    tasks = load_suite(tmp_path, split="test")
    assert sorted(tasks.families) == ["MOC", "PSS"]


@pytest.mark.real
@pytest.mark.skipif(not has_espeak, reason="espeak-ng is not installed (only rendering needs it)")
def test_renderer_smoke_with_speech(tmp_path):
    from cvr_gym.perception.decode import MediaReader
    from cvr_gym.perception.offline_audio import OfflineAudioBackend

    plan = tiny_plan("videos/s.mp4", "HELLO WORLD", speech="Welcome to kitchen talk.")
    path = render_video(plan, tmp_path / plan.path)
    info = probe(path)
    assert info.duration == pytest.approx(6.0, abs=0.05) and info.has_audio and (info.width, info.height) == (320, 240)
    with MediaReader(path) as reader:
        records = OfflineAudioBackend().transcribe(reader.audio(0.0, 2.2), 0.0, "")
    speech = " ".join(r.content for r in records if r.kind == "speech")
    assert ratio(speech, "Welcome to kitchen talk.") > 0.7, speech
