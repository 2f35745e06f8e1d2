"""The action parser: every accepted format, clear errors, and fuzzing."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.parsing import ActionParseError, parse_action
from cvr_gym.core.spaces import ToolCallSpace

OBSERVE = ToolCall.observe(1, 0, 30, num_frames=8, focus="red car")


def test_toolcall_roundtrips():
    assert parse_action(OBSERVE) == [OBSERVE]
    assert parse_action(OBSERVE.to_dict()) == [OBSERVE]
    assert parse_action(OBSERVE.to_json()) == [OBSERVE]
    assert parse_action(OBSERVE.to_openai()) == [OBSERVE]
    assert parse_action([OBSERVE, ToolCall.answer("B")]) == [OBSERVE, ToolCall.answer("B")]


def test_openai_message_with_tool_calls():
    msg = {"role": "assistant", "content": None,
           "tool_calls": [OBSERVE.to_openai("a"), ToolCall.listen(2, 0, 10).to_openai("b")]}
    assert [c.name for c in parse_action(msg)] == ["observe", "listen"]


def test_qwen_hermes_blocks_with_reasoning():
    text = ("Let me look first.\n<tool_call>\n" + OBSERVE.to_json() + "\n</tool_call>\n"
            "and listen too <tool_call>" + json.dumps({"name": "listen", "arguments": {"video": 2, "start": 5, "end": 9}})
            + "</tool_call> done")
    calls = parse_action(text)
    assert calls[0] == OBSERVE and calls[1] == ToolCall.listen(2, 5, 9)


def test_json_in_prose_and_code_fence():
    assert parse_action("I will answer now: " + ToolCall.answer("C").to_json() + " thanks") == [ToolCall.answer("C")]
    assert parse_action("```json\n" + ToolCall.answer("C").to_json() + "\n```") == [ToolCall.answer("C")]


def test_arguments_as_json_string():
    action = {"name": "listen", "arguments": json.dumps({"video": 1, "start": 0, "end": 5})}
    assert parse_action(action) == [ToolCall.listen(1, 0, 5)]


def test_agentcvr_format():
    observe = {"action": "observe", "thought": "scan", "params": {
        "observation_targets": [{"video_index": 1, "start_time": 0, "end_time": 10, "num_frames": 16},
                                {"video_index": 2, "start_time": 0, "end_time": 10, "num_frames": 16}],
        "focus_prompt": "compare"}}
    (call,) = parse_action(json.dumps(observe))
    assert call.name == "observe" and len(call.arguments.targets) == 2 and call.arguments.focus == "compare"
    caption = {"action": "get_caption", "params": {"video_index": 3, "start_time": 5, "end_time": 9}}
    assert parse_action(caption) == [ToolCall.listen(3, 5, 9)]
    answer = {"action": "answer", "thought": "done", "final_answer": ["A", "C"]}
    assert parse_action(answer) == [ToolCall.answer(["A", "C"])]
    answer_in_params = {"action": "answer", "params": {"final_answer": "AC"}}
    assert parse_action(answer_in_params) == [ToolCall.answer("AC")]


def test_flat_observe_shorthand():
    assert parse_action({"name": "observe", "arguments": {"video": 1, "start": 0, "end": 30, "num_frames": 8,
                                                          "focus": "red car"}}) == [OBSERVE]


@pytest.mark.parametrize("bad,fragment", [
    ("", "empty"),
    ("hello", "no tool call"),
    ('{"name": "jump", "arguments": {}}', "unknown tool"),
    ('{"name": "observe", "arguments": {"targets": []}}', "invalid observe"),
    ('{"name": "observe", "arguments": {"targets": [{"video": 1, "start": 9, "end": 3}]}}', "must be after"),
    ('{"name": "listen", "arguments": {"video": 0, "start": 0, "end": 3}}', "invalid listen"),
    ("<tool_call>{not json}</tool_call>", "not valid JSON"),
    ('{"foo": 1}', "needs a 'name'"),
    (3.5, "cannot read"),
    ({"action": "fly"}, "unknown action"),
])
def test_errors_are_clear(bad, fragment):
    with pytest.raises(ActionParseError) as err:
        parse_action(bad)
    assert fragment in str(err.value)


def test_nothing_is_evaluated():
    with pytest.raises(ActionParseError):
        parse_action("__import__('os').system('echo hacked')")


SPACE = ToolCallSpace()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
tool_like = st.fixed_dictionaries({
    "name": st.sampled_from(["observe", "listen", "answer", "other", ""]),
    "arguments": st.dictionaries(
        st.sampled_from(["targets", "video", "start", "end", "num_frames", "focus", "answer", "x"]),
        json_values, max_size=5),
})


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values, tool_like, tool_like.map(json.dumps),
                 tool_like.map(lambda d: f"think <tool_call>{json.dumps(d)}</tool_call>")))
def test_fuzz_parser_never_raises_anything_else(value):
    try:
        calls = parse_action(value)
    except ActionParseError:
        assert not SPACE.contains(value)
        return
    assert calls and all(isinstance(c, ToolCall) for c in calls)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_space_samples_are_contained(seed):
    space = ToolCallSpace(seed=seed)
    sample = space.sample()
    assert space.contains(sample)
    assert space.contains(sample.to_json())
    ctx = {"durations": [30.0, 600.0], "has_audio": [True, False], "answer_type": "multi", "num_options": 4}
    assert space.contains(space.sample(mask=ctx))


def test_space_seeding_is_reproducible():
    a, b = ToolCallSpace(seed=3), ToolCallSpace(seed=3)
    assert [a.sample() for _ in range(20)] == [b.sample() for _ in range(20)]


def test_space_bounds():
    space = ToolCallSpace(max_videos=2, max_frames_per_target=16)
    assert not space.contains(ToolCall.observe(3, 0, 10, 4))
    assert not space.contains(ToolCall.observe(1, 0, 10, 32))
    assert space.contains(ToolCall.observe(2, 0, 10, 16))
    assert not space.contains("nonsense")


def test_space_bounds_must_fit_the_parser():
    for kwargs in ({"max_duration": 5e6}, {"max_videos": 100}, {"max_frames_per_target": 300}):
        with pytest.raises(ValueError):
            ToolCallSpace(**kwargs)
    assert ToolCallSpace(seed=1).contains(ToolCallSpace(seed=1).sample(mask={"durations": [0.004]}))
