"""``ScoringConfig(mode="crossvid")`` reproduces CrossVid's official per-answer scores.

``official`` below replays the scoring lines of CrossVid's evaluation scripts
(github.com/chuntianli666/CrossVid@5b44760, MIT): ``eval/{NC,CC,PEA,PI,MOC,MSR}.py``
``correct = answer == input_pair["answer"]``; ``eval/BU.py`` ``answer == "".join(input_pair["answer"])``;
``eval/PSS.py`` ``answer == input_pair["answer"]``; ``eval/FSA.py`` ``answer.split(",")`` -> two
``float`` -> ``interval_iou`` (0 on any exception; 0 for an empty union). Records are shaped as
CrossVid's ``QA/<TASK>.json`` (the fields those scripts read) and go through our importer.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from cvr_gym.core.ccqa_judge import OpenAIJudge, parse_verdict
from cvr_gym.core.scoring import ScoringConfig, score_answer
from cvr_gym.envs import make_sim_env
from cvr_gym.importers.common import SourceRecord
from cvr_gym.importers.crossvid import CrossVidOptions, convert_record

RECORDS = {
    "BU": {"id": 0, "videos": ["a.mp4", "b.mp4"], "question": "Which behaviours?", "options": ["x", "y", "z", "w"],
           "answer": ["A", "C"]},
    "NC": {"id": 0, "videos": ["a.mp4", "b.mp4"], "question": "q", "options": ["x", "y", "z", "w"], "answer": "B"},
    "CC": {"id": 0, "videos": ["a.mp4", "b.mp4"], "question": "q", "options": ["x", "y", "z", "w"], "answer": "D"},
    "PEA": {"id": 0, "videos": ["a.mp4", "b.mp4"], "begin": [0, 5], "end": [20, 30], "question": "q",
            "options": ["x", "y", "z", "w"], "answer": "A"},
    "PI": {"id": 0, "video": "m.mp4", "beginning": [0, 10], "ending": [50, 60], "options": ["x", "y", "z", "w"],
           "answer": "C"},
    "FSA": {"id": 0, "video A": "a.mp4", "video B": "b.mp4", "ref_segment": [3, 9], "answer": [15, 23]},
    "PSS": {"id": 0, "video": "c.mp4", "segments": {"1": [0, 5], "2": [10, 15], "3": [20, 25], "4": [30, 35]},
            "answer": "2->4->1->3"},
    "CCQA": {"id": 0, "video A": "a.mp4", "video B": "b.mp4", "question": "How do the two cooks sweeten?",
             "answer": "Video A uses honey, while video B uses maple syrup.",
             "scoring_points": ["Video A uses honey", "Video B uses maple syrup"]},
}

ANSWERS = {  # 64 hand-picked outputs, the kinds a model really writes
    "BU": ["AC", "CA", "A, C", "A,C", "['A', 'C']", "ac", "AC.", " AC", "A", "ACD", "The answer is AC."],
    "NC": ["B", "B.", "(B)", "b", "The answer is B.", "B\n", "C", "Option B"],
    "CC": ["D", "d", "D)", "A", "Answer: D", "**D**"],
    "PEA": ["A", "A. wrong order", "B", "a", "A ", "[A]"],
    "PI": ["C", "C.", "(C)", "B", "c", "C: they fought", "The correct option is C"],
    "FSA": ["15,23", "15, 23", "15.0,23.0", "[15, 23]", "15-23", "17,21", "23,15", "15,23,30", "15s,23s", "0,0",
            "14.5, 22", "1e1,2e1", "30,40", " 16 , 23 ", "15,", "inf,23"],
    "PSS": ["2->4->1->3", "2 -> 4 -> 1 -> 3", "2,4,1,3", "B->D->A->C", "2->4->3->1", "[2, 4, 1, 3]",
            "2->4->1->3.", "2→4→1→3", "Segment 2 -> Segment 4 -> Segment 1 -> Segment 3",
            "2-4-1-3"],
}


def official(task_name: str, record: dict, answer: str) -> float:
    if task_name == "BU":
        return float(answer == "".join(record["answer"]))
    if task_name == "FSA":
        def interval_iou(interval1, interval2):
            start1, end1 = interval1
            start2, end2 = interval2
            inter_start = max(start1, start2)
            inter_end = min(end1, end2)
            intersection = max(0, inter_end - inter_start)
            union = max(end1, end2) - min(start1, start2)
            if union == 0:
                return 0.0
            return intersection / union
        try:
            answer1, answer2 = answer.split(",")
            answer1, answer2 = float(answer1), float(answer2)
            return interval_iou((answer1, answer2), (record["answer"][0], record["answer"][1]))
        except Exception:
            return 0
    return float(answer == record["answer"])


def _task(name, tmp_path):
    options = CrossVidOptions(data_root=tmp_path, videos_dir=tmp_path / "videos", uav_dir=tmp_path / "uav",
                              default_duration=120.0)
    return convert_record(SourceRecord(RECORDS[name], f"{name}.json#0", Path(f"{name}.json")), options).task


def test_64_answers_match_the_official_scores(tmp_path):
    cases = [(name, a) for name, answers in ANSWERS.items() for a in answers]
    assert len(cases) == 64
    strict = ScoringConfig(mode="crossvid")
    lenient_differs = 0
    for name, answer in cases:
        task = _task(name, tmp_path)
        expected = official(name, RECORDS[name], answer)
        got = score_answer(task, answer, strict).score
        assert got == pytest.approx(expected, abs=1e-12), (name, answer, got, expected)
        lenient_differs += score_answer(task, answer).score != pytest.approx(expected)
    assert lenient_differs >= 20  # the lenient default reads many of these generously


def test_uav_tasks_use_the_exact_letter(tmp_path):
    # MOC / MSR: eval/MOC.py and eval/MSR.py compare answer == input_pair["answer"] as the others.
    from cvr_gym.core.crossvid_scoring import crossvid_score
    from cvr_gym.core.tasks import Task

    task = Task(id="m", family="MOC", question="q", options=["1", "2", "3"], answer_type="single", answer="B",
                videos=[{"index": 1, "duration": 2}], meta={"original_answer": "B"})
    assert [crossvid_score(task, a).score for a in ("B", "B.", "b", "2")] == [1.0, 0.0, 0.0, 0.0]


def test_gym_make_scoring_crossvid(tmp_path):
    task = _task("PSS", tmp_path)
    for scoring, expected in (("crossvid", 0.0), (None, 1.0)):
        env = make_sim_env(tasks=[task], scoring=scoring)
        env.reset(seed=0)
        *_, info = env.step({"name": "answer", "arguments": {"answer": "2, 4, 1, 3"}})
        assert info["score"] == expected
    assert make_sim_env(tasks=[task], scoring="crossvid").scoring.mode == "crossvid"


def test_lenient_reads_upstream_orders(tmp_path):
    task = _task("PSS", tmp_path)
    for answer in ("2->4->1->3", "2, 4, 1, 3", "2 4 1 3", "2→4→1→3", "2-4-1-3", "2 – 4 – 1 – 3", [2, 4, 1, 3],
                   "B, D, A, C"):
        assert score_answer(task, answer).score == 1.0, answer
    assert score_answer(task, "4->1->3->2").score == 0.0


# -- CCQA ----------------------------------------------------------------------------------------

def test_ccqa_offline_fallback_knows_videos_and_negation(tmp_path):
    task = _task("CCQA", tmp_path)
    good = "Video A sweetens with honey, while video B uses maple syrup."
    swapped = "Video B sweetens with honey, while video A uses maple syrup."
    negated = "Video A does not use honey, and video B uses maple syrup."
    for config in (ScoringConfig(), ScoringConfig(mode="crossvid")):
        assert score_answer(task, good, config).score == 1.0
        assert score_answer(task, swapped, config).score == 0.0
        assert score_answer(task, negated, config).score == 0.5


class _Judge(BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):
        pass

    def _send(self, payload):
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send({"data": [{"id": "judge-model"}]})

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Judge.requests.append(payload)
        reply = 'Thinking.<score>{"coverage": [true, true], "correctness": [true, false]}</score>'
        self._send({"choices": [{"message": {"role": "assistant", "content": reply}}]})


def test_ccqa_judge_through_an_openai_compatible_endpoint(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        judge = OpenAIJudge(base_url=f"http://127.0.0.1:{server.server_port}/v1")
        task = _task("CCQA", tmp_path)
        result = score_answer(task, "Video A uses honey and video B uses sugar.", ScoringConfig(mode="crossvid", judge=judge))
    finally:
        server.shutdown()
    assert result.score == 0.75  # (2 covered + 1 correct) / (2 x 2 points), as score_CCQA.py sums
    sent = _Judge.requests[-1]
    assert sent["model"] == "judge-model" and sent["temperature"] == 0.0
    prompt = sent["messages"][1]["content"]
    assert "Standard Answer: Video A uses honey, while video B uses maple syrup." in prompt
    assert "Wrap the json output within <score></score> tags." in prompt


def test_parse_verdict_rejects_mismatched_lengths():
    assert parse_verdict('<score>{"coverage": [true], "correctness": [true, false]}</score>', 2) is None
    assert parse_verdict("no tags", 1) is None
    assert parse_verdict('<score>{"coverage": [false], "correctness": [false]}</score>', 1) == ([False], [False])


def test_ccqa_set_score_pools_points_like_score_ccqa():
    from cvr_gym.core.crossvid_scoring import ccqa_set_score

    # answer 1: 2 points, coverage [T, T], correctness [T, F] -> 3 of 4; answer 2: 4 points, 2 of 8.
    # score_CCQA.py: (3 + 2) / (4 + 8) = 5/12, while the mean of per-answer scores is (3/4 + 2/8) / 2 = 1/2.
    assert ccqa_set_score([(3 / 4, 2), (2 / 8, 4)]) == pytest.approx(5 / 12)


@pytest.mark.parametrize("preset", ["agentcvr", "eva"])
def test_presets_pass_check_env(preset):
    from gymnasium.utils.env_checker import check_env

    from cvr_gym.core.tasks import Task

    task = Task(id="c", family="NC", question="q?", options=["a", "b"], answer_type="single", answer="A",
                videos=[{"index": 1, "duration": 30.0, "script": [{"start": 0, "end": 5, "kind": "visual",
                                                                   "content": "x"}]}])
    check_env(make_sim_env(tasks=[task], preset=preset), skip_render_check=True)
