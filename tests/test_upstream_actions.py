"""Actions as AgentCVR and EVA emit them run in the env with no format penalty.

Fixtures come from the upstream code paths:
- ``tests/data/upstream/agentcvr_prompt_actions.json``: every example action block of
  AgentCVR's master prompts (github.com/wang-jh24/AgentCVR, agent_system/prompts/*.prompt);
- optional arguments as AgentCVR's executor defaults them (agent_system/agent_executor.py:
  ``target.get("start_time", 0)``, ``target.get("end_time", duration)``,
  ``target.get("num_frames", 32)``; drone views ``start_frame``/``end_frame``, 16 frames;
  ``get_caption`` needs only ``video_index``, verl/examples/sglang_multiturn/config/tool_config/
  video_analysis_tools.yaml);
- EVA's tool call and answer forms (github.com/wangruohui/EfficientVideoAgent, eval-eva.py:
  ``{"tool": "frame_select", "(arguments|parameters)": {...}}`` found with ``re.findall`` inside
  one ``<tool_call>`` block, ``<answer>`` read with ``r"<answer>\\s*(.*?)\\s*</answer>"``; times
  parsed by ``_parse_time_to_seconds`` in select_frame_fallback.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvr_gym.core.clock import format_clock, parse_seconds
from cvr_gym.core.jsonscan import strip_comments
from cvr_gym.core.parsing import NOTE_COMMENTS, parse_action, parse_action_notes
from cvr_gym.core.tasks import Task
from cvr_gym.envs import make_sim_env

BLOCKS = json.loads((Path(__file__).parent / "data/upstream/agentcvr_prompt_actions.json").read_text())["blocks"]


def _task(n_videos=4, duration=600.0, fps=30.0):
    videos = [{"index": i, "duration": duration, "fps": fps, "script": [
        {"start": 1, "end": 500, "kind": "visual", "content": f"scene of video {i}"},
        {"start": 2, "end": 300, "kind": "speech", "content": f"words of video {i}"}]} for i in range(1, n_videos + 1)]
    return Task(id="t", family="PSS", question="order?", options=["a", "b", "c", "d"], answer_type="order",
                answer=["B", "D", "C", "A"], videos=videos)


@pytest.fixture()
def env():
    return make_sim_env(tasks=[_task()], max_steps=30, frame_budget=100_000, max_frames_per_target=128)


def test_every_agentcvr_prompt_example_parses(env):
    assert len(BLOCKS) == 47  # the ten master prompts hold 47 ```json example blocks
    commented = 0
    for block in BLOCKS:
        env.reset(seed=0)
        obs, reward, terminated, truncated, info = env.step(block["text"])
        where = f"{block['prompt']} example {block['n']}"
        assert info["parse_error"] is None, where
        assert info["reward_components"]["format"] == 0.0, where
        assert "Invalid action" not in obs, where
        if NOTE_COMMENTS in obs:
            commented += 1
    assert commented == 8  # CC 1, FSA 2, MOC 2, PEA 1, PI 2 carry // or # comments


def test_comment_note_and_strings_kept():
    text = '{"action": "answer", "thought": "truck ID#1 // not a comment", "final_answer": "A"} # done'
    calls, notes = parse_action_notes(text)
    assert calls[0].arguments.answer == "A" and notes == [NOTE_COMMENTS]
    cleaned, removed = strip_comments('{"a": "x#y", "b": "http://z"} // c')
    assert removed and json.loads(cleaned) == {"a": "x#y", "b": "http://z"}


def test_get_caption_with_only_video_index_is_the_whole_clip(env):
    env.reset(seed=0)
    obs, _, _, _, info = env.step('{"action": "get_caption", "thought": "t", "params": {"video_index": 2}}')
    assert info["parse_error"] is None
    assert info["tool_calls"][0]["arguments"] == {"video": 2, "start": 0.0, "end": 600.0, "focus": ""}
    assert "words of video 2" in obs


def test_observe_target_with_only_video_index_is_whole_clip_32_frames(env):
    env.reset(seed=0)
    _, _, _, _, info = env.step({"action": "observe", "params": {"observation_targets": [{"video_index": 3}],
                                                                 "focus_prompt": "what happens"}})
    target = info["tool_calls"][0]["arguments"]["targets"][0]
    assert target == {"video": 3, "start": 0.0, "end": 600.0, "num_frames": 32}
    assert info["totals"]["frames"] == 32


def test_verl_tool_schema_form_gets_agentcvr_defaults(env):
    env.reset(seed=0)
    call = {"name": "observe", "arguments": {"observation_targets": [{"video_index": 1, "start_time": 5}]}}
    _, _, _, _, info = env.step(call)
    assert info["tool_calls"][0]["arguments"]["targets"][0] == {"video": 1, "start": 5.0, "end": 600.0,
                                                               "num_frames": 32}


def test_drone_view_frames_become_seconds(env):
    env.reset(seed=0)
    action = {"action": "observe", "params": {"observation_targets": [
        {"video_index": 1, "start_frame": 30, "end_frame": 89}, {"video_index": 2, "start_frame": 0, "end_frame": 29,
                                                                 "num_frames": 4}]}}
    obs, _, _, _, info = env.step(action)
    t1, t2 = info["tool_calls"][0]["arguments"]["targets"]
    assert (t1["start"], t1["end"], t1["num_frames"]) == (1.0, 3.0, 16)  # frames 30..89 at 30 fps, 16 by default
    assert (t2["start"], t2["end"], t2["num_frames"]) == (0.0, 1.0, 4)
    assert "frames 30-89 of video 1 are 1.00-3.00 s at 30 fps" in obs
    assert info["reward_components"]["format"] == 0.0


def test_several_json_actions_in_one_reply_all_run_with_a_note(env):
    env.reset(seed=0)
    reply = ('{"action": "get_caption", "params": {"video_index": 1, "start_time": 0, "end_time": 10}}\n'
             '{"action": "observe", "params": {"observation_targets": [{"video_index": 2, "start_time": 0, '
             '"end_time": 10, "num_frames": 4}], "focus_prompt": "x"}}')
    obs, _, _, _, info = env.step(reply)
    assert [c["name"] for c in info["tool_calls"]] == ["listen", "observe"]
    assert "2 JSON actions in one reply; all ran, in order" in obs


def test_eva_frame_select_forms_and_answer():
    block = ('<think>look twice</think><tool_call>\n'
             '{"tool": "frame_select", "arguments": {"start_time": "01:10", "end_time": 90, "nframes": 8, "resize": 0.5}}\n'
             '{"tool": "frame_select", "parameters": {"start_time": "0:00:05", "end_time": "1:02:03", "nframes": 4}}\n'
             '</tool_call>')
    calls, notes = parse_action_notes(block)
    first, second = (c.to_dict()["arguments"] for c in calls)
    assert first == {"targets": [{"video": 1, "start": 70.0, "end": 90.0, "num_frames": 8}], "focus": "", "resize": 0.5}
    assert second["targets"][0] == {"video": 1, "start": 5.0, "end": 3723.0, "num_frames": 4}
    assert notes == ["2 JSON actions in one reply; all ran, in order"]
    assert parse_action("Checked the frames. <answer>C</answer>")[0].arguments.answer == "C"
    assert parse_action("<answer> 2->1->3 </answer>")[0].arguments.answer == "2->1->3"
    # extract_answer_v2, EVA's fallback when no tags: "Answer: X" near the end
    assert parse_action("All frames checked. Answer: D. The lid is red.")[0].arguments.answer == "D"


def test_resize_scales_visual_tokens_with_area(env):
    env.reset(seed=0)
    _, _, _, _, full = env.step('<tool_call>{"tool": "frame_select", "arguments": {"start_time": 0, "end_time": 60, "nframes": 8}}</tool_call>')
    _, _, _, _, half = env.step('<tool_call>{"tool": "frame_select", "arguments": {"start_time": 0, "end_time": 60, "nframes": 8, "resize": 0.5}}</tool_call>')
    assert full["call_costs"][0]["visual_tokens"] == 8 * 256
    assert half["call_costs"][0]["visual_tokens"] == 8 * 64  # a quarter of the area
    assert half["call_costs"][0]["frames"] == 8


@pytest.mark.parametrize("text,seconds", [("75", 75.0), ("1:15", 75.0), ("01:01:15", 3675.0), ("12.5s", 12.5),
                                          (90, 90.0), ("0:00:07.5", 7.5)])
def test_clock_formats(text, seconds):
    assert parse_seconds(text) == seconds


@given(st.floats(min_value=0, max_value=86_399, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_clock_round_trips_whole_seconds(seconds):
    assert parse_seconds(format_clock(seconds)) == int(seconds)


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_strip_comments_never_raises_and_keeps_comment_free_json(text):
    cleaned, removed = strip_comments(text)
    assert len(cleaned) <= len(text)
    if not removed:
        assert cleaned == text


def test_resize_makes_small_items_unreadable_in_the_simulator():
    video = {"index": 1, "duration": 60, "script": [
        {"start": 0, "end": 60, "kind": "text", "content": "FINE PRINT", "attributes": {"size": 0.03}},
        {"start": 0, "end": 60, "kind": "text", "content": "BIG TITLE", "attributes": {"size": 0.2}},
        {"start": 0, "end": 60, "kind": "visual", "content": "a kitchen"}]}
    task = Task(id="r", family="BU", question="q", options=["a", "b"], answer_type="single", answer="A",
                videos=[video])
    env = make_sim_env(tasks=[task])
    env.reset(seed=0)
    full, *_ = env.step({"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 60}]}})
    small, *_ = env.step({"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 60}],
                                                          "resize": 0.5}})
    assert "FINE PRINT" in full and "BIG TITLE" in full
    assert "FINE PRINT" not in small and "BIG TITLE" in small and "a kitchen" in small  # 0.03 * 0.5 < 0.02


def test_real_perceiver_downscales_frames():
    np = pytest.importorskip("numpy")
    from cvr_gym.envs.video_perceiver import scale_frame

    frame = np.zeros((360, 640, 3), dtype=np.uint8)
    assert scale_frame(frame, 0.5).shape == (180, 320, 3)


_FRAGMENTS = ['{"action": "observe", "params": {"observation_targets": [{"video_index": 1', '}]}}', '}', '{',
              ' // note\n', ' # View A\n', '"ID#1"', '<tool_call>', '</tool_call>', '<answer>', '</answer>',
              '{"tool": "frame_select", "arguments": {"start_time": "1:00", "end_time": 5, "nframes": 2}}',
              '"start_frame": 3', '"end_frame": 1', ', ', '"resize": 0', '"resize": 0.5', '```json\n', '```',
              '{"action": "answer", "final_answer": "2->1"}', '{"action": "get_caption", "params": {"video_index": 7}}']


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12))
@settings(max_examples=300, deadline=None)
def test_upstream_shaped_text_never_crashes_a_step(parts):
    env = make_sim_env(tasks=[_task(n_videos=2, duration=30.0)])
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("".join(parts))
    assert isinstance(obs, str) and (info["parse_error"] is None or reward < 0)


def test_observe_tool_schema_offers_resize(env):
    from cvr_gym.core.actions import MAX_RESIZE

    observe = next(t["function"] for t in env.tools if t["function"]["name"] == "observe")
    resize = observe["parameters"]["properties"]["resize"]
    assert resize["type"] == "number" and resize["exclusiveMinimum"] == 0 and resize["maximum"] == MAX_RESIZE
    assert "resize" not in observe["parameters"]["required"]
    env.reset(seed=0)
    call = {"type": "function", "function": {"name": "observe", "arguments": json.dumps(
        {"targets": [{"video": 1, "start": 0, "end": 60, "num_frames": 8}], "resize": 0.5})}}
    assert env.action_space.contains(call)
    _, _, _, _, info = env.step(call)
    assert info["parse_error"] is None and info["call_costs"][0]["visual_tokens"] == 8 * 64
