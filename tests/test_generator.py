"""The procedural generator, its readers and the bundled default suite.

The oracle and blind checks run through the real env API: the oracle observes (and listens to)
exactly the gold evidence spans read from ``env.unwrapped.task.evidence`` and answers with
``read_answer``; the blind agent answers with no evidence at all.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import pytest

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym.cli import main as cli_main
from cvr_gym.core.actions import ToolCall
from cvr_gym.core.evidence import Evidence
from cvr_gym.core.scoring import content_words
from cvr_gym.core.suites import load_suite
from cvr_gym.core.tasks import FAMILIES, Task
from cvr_gym.core.view import TaskView
from cvr_gym.data import (
    DIFFICULTIES, Difficulty, blind_answer, generate_splits, generate_suite, read_answer, to_jsonl,
    write_jsonl,
)
from cvr_gym.data.generator import LICENSE, SOURCE

ANSWER_TYPES = {"BU": "multi", "NC": "single", "CC": "single", "PEA": "single", "PI": "single",
                "FSA": "interval", "PSS": "order", "MSR": "single", "MOC": "count", "CCQA": "free_text",
                "AUD": "single"}
DEFAULT_SUITE = Path(__file__).resolve().parents[1] / "envs_data" / "default"


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    """A few hundred tasks over every family and difficulty."""
    return generate_suite(seed=11, n_per_family=27, difficulty="mixed")


def _episodes(tasks, *, observe=True, listen=True, blind=False, **env_kwargs):
    """Run one episode per task; yield (task, score)."""
    env = gym.make("CVRSim-v0", tasks=tasks, disable_env_checker=True, **env_kwargs)
    try:
        for index in range(len(tasks)):
            _, info = env.reset(options={"task_index": index})
            task = env.unwrapped.task
            view = TaskView.from_info(info)
            evidence = []
            if not blind:
                spans = task.evidence
                frames = min(64, 256 // max(1, len(spans)))
                calls = []
                for s in spans:
                    end = max(s.end, s.start + 0.1)
                    if observe:
                        calls.append(ToolCall.observe(s.video, s.start, end, num_frames=frames))
                    if listen:
                        calls.append(ToolCall.listen(s.video, s.start, end))
                _, _, _, _, info = env.step(calls)
                evidence.extend(info["evidence"])
            _, _, terminated, _, info = env.step(ToolCall.answer(read_answer(view, evidence)))
            assert terminated
            yield task, info["score"]
    finally:
        env.close()


def _by_family(results):
    out = defaultdict(list)
    for task, score in results:
        out[task.family].append(score)
    return out


# -- determinism and schema --------------------------------------------------------------------

def test_same_arguments_give_identical_jsonl():
    a = to_jsonl(generate_suite(seed=3, n_per_family=3, difficulty="mixed"))
    b = to_jsonl(generate_suite(seed=3, n_per_family=3, difficulty="mixed"))
    assert a == b
    assert a != to_jsonl(generate_suite(seed=4, n_per_family=3, difficulty="mixed"))


def test_tasks_do_not_depend_on_how_many_are_asked_for():
    few = generate_suite(seed=2, n_per_family=2, families="CC,AUD")
    more = generate_suite(seed=2, n_per_family=5, families="CC,AUD")
    assert to_jsonl(few) == to_jsonl([t for t in more if t.meta["index"] < 2])


def test_splits_never_share_tasks():
    splits = generate_splits(seed=0, sizes={"train": 22, "val": 11, "test": 11})
    contents = {split: {t.question + repr(t.videos[0].script[:3]) for t in ts} for split, ts in splits.items()}
    assert not contents["train"] & contents["test"] and not contents["val"] & contents["test"]
    ids = [t.id for ts in splits.values() for t in ts]
    assert len(ids) == len(set(ids))


def test_every_line_is_a_valid_task(tasks, tmp_path):
    path = write_jsonl(tasks, tmp_path / "suite.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(tasks)
    for line, task in zip(lines, tasks):
        assert Task.model_validate_json(line) == task
    suite = load_suite(str(path))
    assert len(suite) == len(tasks)
    for task in tasks:
        assert task.source == SOURCE and task.license == LICENSE
        assert {"seed", "difficulty", "chance", "generator"} <= set(task.meta)
        assert json.loads(json.dumps(task.meta)) == task.meta


def test_every_family_with_its_answer_type(tasks):
    assert {t.family for t in tasks} == set(FAMILIES)
    for task in tasks:
        assert task.answer_type == ANSWER_TYPES[task.family], task.id
        assert 2 <= task.num_videos <= 4
        assert task.evidence
        if task.answer_type == "interval":
            assert task.answer_video is not None
        if task.answer_type == "free_text":
            assert task.scoring_points
    assert len({t.answer_type for t in tasks}) == 6


def test_difficulties_shape_the_videos():
    for name, diff in DIFFICULTIES.items():
        for task in generate_suite(seed=1, n_per_family=2, difficulty=name):
            assert diff.num_videos[0] <= task.num_videos <= diff.num_videos[1]
            for video in task.videos:
                assert diff.duration[0] - 0.05 <= video.duration <= diff.duration[1] + 0.05
                assert 5 <= len(video.script) <= 60, "tens of items per video"
            assert task.meta["difficulty"] == name
    durations = [v.duration for t in generate_suite(seed=0, n_per_family=5, difficulty="mixed") for v in t.videos]
    assert min(durations) < 150 and max(durations) > 600


def test_difficulty_overrides_and_validation():
    task = generate_suite(seed=0, n_per_family=1, families=["MOC"], duration=(40.0, 40.0), num_videos=(4, 4))[0]
    assert task.num_videos == 4 and all(v.duration == 40.0 for v in task.videos)
    with pytest.raises(ValueError):
        Difficulty(num_videos=(1, 3))
    with pytest.raises(ValueError):
        Difficulty(duration=(10.0, 60.0))
    with pytest.raises(ValueError):
        generate_suite(families="XYZ")
    with pytest.raises(ValueError):
        generate_suite(difficulty="impossible")


# -- evidence design ---------------------------------------------------------------------------

def test_evidence_spans_are_short_inside_videos_and_inside_a_context(tasks):
    for task in tasks:
        for span in task.evidence:
            video = task.videos[span.video - 1]
            assert 0 <= span.start < span.end <= video.duration
            assert span.end - span.start <= 4.05
            length = span.end - span.start
            contexts = [it for it in video.script if it.kind == "visual"
                        and it.start <= span.start and span.end <= it.end
                        and 3 * length <= it.end - it.start <= 90.05]
            assert contexts, f"{task.id}: key evidence at {span} has no context scene around it"
        for video in task.videos:
            assert all(0 <= it.start <= it.end <= video.duration for it in video.script)


def test_context_scenes_share_words_with_the_question(tasks):
    def stems(text):
        return {w[:-1] if w.endswith("s") else w for w in content_words(text)} - {"cook", "camera"}

    misses = 0
    for task in tasks:
        if task.family == "FSA":  # the question quotes a time, not a topic
            continue
        asked = stems(task.question + " " + " ".join(task.options))
        for span in task.evidence:
            video = task.videos[span.video - 1]
            contexts = [it for it in video.script if it.kind == "visual" and it.start <= span.start
                        and span.end <= it.end and it.end - it.start >= 5]
            misses += not any(asked & stems(it.content) for it in contexts)
    assert misses == 0


def test_single_choice_gold_letters_are_balanced(tasks):
    positions = Counter()
    for task in generate_suite(seed=5, n_per_family=60, families="NC,PEA,PI,MSR,AUD", difficulty="easy"):
        positions[task.answer] += 1
    total = sum(positions.values())
    assert set(positions) == {"A", "B", "C", "D"}
    assert all(abs(n / total - 0.25) < 0.05 for n in positions.values()), positions
    moc = generate_suite(seed=5, n_per_family=300, families="MOC", difficulty="easy")
    counts = [t.answer - t.num_videos for t in moc]
    assert min(counts) == 0 and max(counts) == 9 and abs(statistics.mean(counts) - 4.5) < 0.5


# -- oracle, blind, audio ----------------------------------------------------------------------

def test_oracle_on_the_evidence_spans_scores_about_100_percent(tasks):
    by_family = _by_family(_episodes(tasks))
    means = {f: statistics.mean(s) for f, s in by_family.items()}
    overall = statistics.mean(s for scores in by_family.values() for s in scores)
    assert overall >= 0.95, means
    assert all(m >= 0.9 for m in means.values()), means


def test_blind_agent_scores_chance(tasks):
    scores = [score for _, score in _episodes(tasks, blind=True)]
    chance = statistics.mean(t.meta["chance"] for t in tasks)
    assert abs(statistics.mean(scores) - chance) < 0.04, (statistics.mean(scores), chance)


def test_audio_family_needs_listen(tasks):
    aud = [t for t in tasks if t.family == "AUD"]
    looking_only = statistics.mean(s for _, s in _episodes(aud, listen=False))
    full = statistics.mean(s for _, s in _episodes(aud))
    assert full >= 0.95 and looking_only <= 0.45, (full, looking_only)
    others = [t for t in tasks if t.family != "AUD"]
    assert statistics.mean(s for _, s in _episodes(others, listen=False)) >= 0.95


# -- readers -----------------------------------------------------------------------------------

def _everything(task: Task) -> list[Evidence]:
    return [Evidence(v.index, it.start, it.end, it.kind, it.content, dict(it.attributes))
            for v in task.videos for it in v.script]


def test_readers_see_through_distractors_and_ignore_order(tasks):
    """Given every script item of every video (all distractors included), readers are exact."""
    from cvr_gym.core.scoring import score_answer

    rng = random.Random(0)
    for task in tasks:
        view = TaskView.from_task(task)
        evidence = _everything(task)
        answer = read_answer(view, evidence)
        assert score_answer(task, answer).score >= 0.99, (task.id, answer, task.answer)
        rng.shuffle(evidence)
        assert read_answer(view, evidence + evidence[:5]) == answer


def test_readers_degrade_gracefully(tasks):
    for task in tasks[::7]:
        view = TaskView.from_task(task)
        junk = [Evidence(1, 0.0, 1.0, "visual", "a blurry frame"), {"video": 9, "start": "x"}, None, 42,
                {"video": 1, "start": 0, "end": 1, "kind": "text", "content": "hello", "attributes": None}]
        for evidence in ([], junk, _everything(task)[:3]):
            answer = read_answer(view, evidence)
            assert answer is not None
            cvr_gym.score_answer(task, answer)  # well-formed for the scorer
        assert read_answer(view, []) == blind_answer(view)
    assert read_answer(TaskView(question="?", answer_type="count", durations=(10.0, 20.0)), []) == 6


def test_task_view_from_info_and_prompt_match_from_task(tasks):
    env = gym.make("CVRSim-v0", tasks=tasks[:30], disable_env_checker=True)
    for index, task in enumerate(tasks[:30]):
        obs, info = env.reset(options={"task_index": index})
        expected = TaskView.from_task(task)
        assert TaskView.from_info(info) == expected
        parsed = TaskView.from_prompt(obs, family=task.family)
        assert replace(parsed, task_id=task.id) == replace(expected, durations=parsed.durations)
        assert parsed.durations == pytest.approx(expected.durations, abs=0.051)
    env.close()


# -- active search pays ------------------------------------------------------------------------

def _look(env, calls):
    _, _, _, _, info = env.step(calls)
    return info["evidence"]


def _uniform_agent(env, view):
    return _look(env, [ToolCall.observe(v, 0, d, num_frames=32, focus=view.question)
                       for v, d in enumerate(view.durations, 1)])


def _coarse_to_fine_agent(env, view, coarse=12):
    asked = set(content_words(view.question + " " + " ".join(view.options)))
    found = _look(env, [ToolCall.observe(v, 0, d, num_frames=coarse, focus=view.question)
                        for v, d in enumerate(view.durations, 1)])
    zooms = []
    for v, d in enumerate(view.durations, 1):
        scored = [(len(asked & set(content_words(ev.content))), -ev.start, ev) for ev in found
                  if ev.video == v and ev.kind == "visual"]
        if scored and max(scored, key=lambda x: x[:2])[0] > 0:
            best = max(scored, key=lambda x: x[:2])[2]
            spacing = d / coarse
            zooms.append(ToolCall.observe(v, max(0.0, best.start - spacing), min(d, best.end + spacing),
                                          num_frames=32 - coarse, focus=view.question))
    return found + (_look(env, zooms) if zooms else [])


def test_coarse_to_fine_beats_a_uniform_scan_at_32_frames_per_video():
    tasks = [t for t in generate_suite(seed=21, n_per_family=20, difficulty="medium") if t.family != "FSA"]
    env = gym.make("CVRSim-v0", tasks=tasks, disable_env_checker=True)
    means = {}
    for name, agent in (("uniform", _uniform_agent), ("coarse_to_fine", _coarse_to_fine_agent)):
        scores = []
        for index in range(len(tasks)):
            _, info = env.reset(options={"task_index": index})
            view = TaskView.from_info(info)
            evidence = agent(env, view)
            _, _, _, _, info = env.step(ToolCall.answer(read_answer(view, evidence)))
            assert info["totals"]["frames"] <= 32 * view.num_videos
            scores.append(info["score"])
        means[name] = statistics.mean(scores)
    env.close()
    assert means["coarse_to_fine"] >= means["uniform"] + 0.05, means
    assert means["uniform"] < 0.6, means  # a single pass usually misses the key


# -- command line and bundled suite ------------------------------------------------------------

def test_cli_generate_writes_splits_deterministically(tmp_path, capsys):
    args = ["generate", "--seed", "7", "--train", "22", "--val", "11", "--test", "13", "--families", "all",
            "--difficulty", "easy", "--no-progress"]
    assert cli_main(args + ["--out", str(tmp_path / "a")]) == 0
    assert cli_main(args + ["--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "AUD" in out and "total" in out
    for split, n in (("train", 22), ("val", 11), ("test", 13)):
        a, b = (tmp_path / "a" / f"{split}.jsonl").read_bytes(), (tmp_path / "b" / f"{split}.jsonl").read_bytes()
        assert a == b and len(a.splitlines()) == n
    families = Counter(t.family for t in load_suite(str(tmp_path / "a"), split="test"))
    assert set(families) == set(FAMILIES) and sum(families.values()) == 13


def test_cli_generate_options_and_errors(tmp_path, capsys):
    out = tmp_path / "small"
    assert cli_main(["generate", "--out", str(out), "--train", "4", "--val", "0", "--test", "0", "--families", "CC,AUD",
                     "--difficulty", "hard", "--max-duration", "120", "--min-duration", "60", "--videos", "2,2",
                     "--no-progress"]) == 0
    tasks = load_suite(str(out), split="train").tasks
    assert {t.family for t in tasks} == {"CC", "AUD"}
    assert all(t.num_videos == 2 and all(60 <= v.duration <= 120 for v in t.videos) for t in tasks)
    assert cli_main(["generate", "--out", str(out), "--families", "XX", "--no-progress"]) == 2
    assert cli_main(["generate", "--out", str(out), "--min-duration", "5", "--no-progress"]) == 2
    with pytest.raises(SystemExit):
        cli_main(["generate", "--help"])
    assert "--difficulty" in capsys.readouterr().out


@pytest.mark.skipif(not (DEFAULT_SUITE / "test.jsonl").is_file(), reason="the default suite is not bundled")
def test_bundled_default_suite():
    sizes = {"train": 660, "val": 110, "test": 220}
    total_bytes = 0
    for split, n in sizes.items():
        path = DEFAULT_SUITE / f"{split}.jsonl"
        total_bytes += path.stat().st_size
        suite = load_suite("default", split=split)
        assert len(suite) == n
        assert Counter(t.family for t in suite) == {f: n // 11 for f in FAMILIES}
    assert total_bytes < 10_000_000
    # The recorded command regenerates the files byte for byte (checked on val, the smallest).
    regenerated = generate_suite(seed=0, n_per_family=10, difficulty="mixed", split="val")
    assert to_jsonl(regenerated) == (DEFAULT_SUITE / "val.jsonl").read_text(encoding="utf-8")
