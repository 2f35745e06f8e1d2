"""The LLM agent: a tiny random transformers model, and a loopback OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from baselines import make_agent
from baselines.llm_agent import parse_llm_spec
from cvr_gym.cli import main as cli_main


def _play(env, agent, task_id="car-colour", seed=0):
    obs, info = env.reset(options={"task_id": task_id})
    agent.reset(obs, info, seed=seed)
    infos = []
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        infos.append(info)
        done = terminated or truncated
    return infos


def test_spec_parsing():
    assert parse_llm_spec("hf:/m/x") == ("hf", "/m/x", {})
    assert parse_llm_spec("smollm2,temperature=0.7") == ("hf", "smollm2", {"temperature": 0.7})
    assert parse_llm_spec("openai:http://h:1/v1#m,max_tokens=64") == ("openai", "http://h:1/v1#m", {"max_tokens": 64})
    with pytest.raises(ValueError):
        parse_llm_spec(None)
    with pytest.raises(ValueError, match="BASE_URL#MODEL"):
        make_agent("llm:openai:http://127.0.0.1:9/v1")


@pytest.fixture
def one_torch_thread():
    # A tiny model: a second thread only adds contention on a busy machine.
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_random_hf_model_gets_format_penalties(tmp_path, mini_suite_path, one_torch_thread):
    pytest.importorskip("transformers")
    from tiny_models import tiny_qwen2

    model_dir = tiny_qwen2(tmp_path / "tiny")
    out = tmp_path / "results.jsonl"
    code = cli_main(["eval", "--agent", f"llm:hf:{model_dir},max_tokens=12,temperature=1.0",
                     "--suite", str(mini_suite_path), "--split", "all", "--episodes", "1", "--out", str(out),
                     "--env-arg", "max_steps=3", "--no-progress"])
    assert code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 1
    for rec in records:
        assert "error" not in rec, rec.get("error")
        assert len(rec["actions"]) == 3 and all(isinstance(a, str) for a in rec["actions"])  # raw text
        assert rec["termination_reason"] == "max_steps"
        assert all(rec["parse_errors"]) and rec["reward_components"]["format"] == pytest.approx(-0.3)


class _FakeOpenAI(BaseHTTPRequestHandler):
    """/v1/chat/completions that listens to video 1, then answers B (car-colour)."""

    requests: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        turn = sum(m["role"] == "assistant" for m in body["messages"])
        if turn == 0:
            calls = [{"id": "c1", "type": "function", "function": {
                "name": "listen", "arguments": json.dumps({"video": 1, "start": 0, "end": 20})}}]
            message = {"role": "assistant", "content": None, "tool_calls": calls}
        else:
            calls = [{"id": "c2", "type": "function", "function": {
                "name": "answer", "arguments": json.dumps({"answer": "B"})}}]
            message = {"role": "assistant", "content": "It is blue.", "tool_calls": calls}
        data = json.dumps({"id": "x", "object": "chat.completion",
                           "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def fake_server():
    _FakeOpenAI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_endpoint_tool_calls_drive_the_env(sim_env, fake_server, monkeypatch):
    monkeypatch.setenv("CVR_TEST_KEY", "sk-test")
    agent = make_agent(f"llm:openai:{fake_server}#fake-model,key_env=CVR_TEST_KEY",
                       action_space=sim_env.action_space)
    infos = _play(sim_env, agent)
    assert [c["name"] for i in infos for c in i["tool_calls"]] == ["listen", "answer"]
    assert infos[-1]["score"] == 1.0 and infos[-1]["termination_reason"] == "answer"
    reqs = _FakeOpenAI.requests
    assert len(reqs) == 2 and all(r["path"] == "/v1/chat/completions" for r in reqs)
    assert reqs[0]["auth"] == "Bearer sk-test"
    first = reqs[0]["body"]
    assert first["model"] == "fake-model"
    assert first["tools"] == sim_env.unwrapped.tools
    assert first["messages"][0] == {"role": "system", "content": sim_env.unwrapped.system_prompt}
    # The second request carries the history: the tool call and its result under its id.
    second = reqs[1]["body"]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[3]["tool_call_id"] == "c1" and "look at that car" in second[3]["content"]


def test_text_reply_is_parsed_by_the_env(sim_env):
    """A reply without tool_calls is passed to the env as text; errors come back as user turns."""
    from baselines.llm_agent import LLMAgent

    class Scripted:
        def __init__(self):
            self.seen = []

        def chat(self, messages, tools):
            self.seen.append([m["role"] for m in messages])
            if len(self.seen) == 1:
                return {"role": "assistant", "content": "hmm, let me think"}
            return {"role": "assistant", "content": 'Answer: {"name": "answer", "arguments": {"answer": "B"}}'}

    backend = Scripted()
    infos = _play(sim_env, LLMAgent(backend, action_space=sim_env.action_space))
    assert infos[0]["parse_error"] and infos[-1]["score"] == 1.0
    assert backend.seen[1] == ["system", "user", "assistant", "user"]


def test_hf_backend_reuses_the_chat_prefix_cache_with_the_same_replies(tmp_path, one_torch_thread):
    pytest.importorskip("transformers")
    from tiny_models import tiny_qwen2

    from baselines.llm_agent import HFChatBackend

    model_dir = tiny_qwen2(tmp_path / "tiny")
    cached = HFChatBackend(str(model_dir), device="cpu", max_tokens=6)
    fresh = HFChatBackend(str(model_dir), device="cpu", max_tokens=6)
    messages = [{"role": "system", "content": "Use the tools."}, {"role": "user", "content": "Question: what colour?"}]
    for turn in range(3):
        fresh._cache = None  # the reference encodes the whole chat every time
        reply = cached.chat(messages, [])
        assert reply == fresh.chat(messages, [])
        if turn:  # from the second call on, the shared prefix came from the cache
            assert cached._cache.get_seq_length() > 0
        messages += [reply, {"role": "user", "content": f"observe result {turn}: a red car"}]
    # A different conversation shares only the start: the cache is cut back, not misused.
    other = [{"role": "system", "content": "Use the tools."}, {"role": "user", "content": "Something else"}]
    fresh._cache = None
    assert cached.chat(other, []) == fresh.chat(other, [])


# -- decoding aids: guided decoding, validate-and-resample, the loop breaker ----------------------

_OBSERVE = '<tool_call>\n{"name": "observe", "arguments": {"targets": [{"video": 1, "start": %s, "end": %s, "num_frames": 4}]}}\n</tool_call>'
_ANSWER_B = '<tool_call>\n{"name": "answer", "arguments": {"answer": "B"}}\n</tool_call>'


class _Replies:
    """A backend that replies ``greedy[turn]`` at temperature 0 and ``sampled(seed)`` when
    the agent resamples; it records every call's temperature and seed."""

    def __init__(self, greedy, sampled):
        self.greedy, self.sampled, self.calls = list(greedy), sampled, []

    def chat(self, messages, tools, temperature=None, seed=None):
        self.calls.append((sum(m["role"] == "assistant" for m in messages), temperature, seed))
        if temperature is None:
            return {"role": "assistant", "content": self.greedy.pop(0)}
        return {"role": "assistant", "content": self.sampled(seed)}


def test_invalid_reply_is_resampled_with_seeded_draws_before_the_env_sees_it(sim_env):
    from baselines.llm_agent import LLMAgent

    def run(resample, seed):
        # Greedy writes a window that ends before it starts; the first draw repeats it, the second is valid.
        backend = _Replies([_OBSERVE % (30, 10), _ANSWER_B],
                           lambda s: _OBSERVE % ((30, 10) if s % 10 == 1 else (0, 10)))
        agent = LLMAgent(backend, action_space=sim_env.action_space, resample=resample, resample_temperature=0.9)
        return _play(sim_env, agent, seed=seed), backend, agent.episode_stats()

    infos, backend, stats = run(resample=3, seed=5)
    assert [i["parse_error"] for i in infos] == [None, None]  # the env never saw the bad window
    assert infos[0]["tool_calls"][0]["arguments"]["targets"][0]["start"] == 0
    assert infos[-1]["score"] == 1.0
    # Two draws at the resample temperature, seeded by agent seed, turn and draw.
    assert backend.calls == [(0, None, None), (0, 0.9, 5001), (0, 0.9, 5002), (1, None, None)]
    assert stats == {"turns": 2, "first_invalid": 1, "first_repeat": 0, "resamples": 2,
                     "sent_invalid": 0, "sent_repeat": 0}
    assert run(resample=3, seed=5)[1].calls == backend.calls  # reproducible
    # Without resampling the reply goes out as it is and the env rejects it.
    infos, backend, stats = run(resample=0, seed=5)
    assert "must be after start" in infos[0]["parse_error"]
    assert stats["sent_invalid"] == 1 and stats["resamples"] == 0 and len(backend.calls) == 2
    # A bounded number of draws: when every draw is bad, the last one is sent.
    infos, backend, stats = run(resample=1, seed=5)
    assert infos[0]["parse_error"] and stats == {"turns": 2, "first_invalid": 1, "first_repeat": 0,
                                                 "resamples": 1, "sent_invalid": 1, "sent_repeat": 0}


def test_a_repeated_action_is_resampled_instead_of_looping(sim_env):
    from baselines.llm_agent import LLMAgent

    same = _OBSERVE % (0, 10)
    backend = _Replies([same, same, same, _ANSWER_B], lambda s: _OBSERVE % (10, 20 + s % 10))
    agent = LLMAgent(backend, action_space=sim_env.action_space, resample=2)
    infos = _play(sim_env, agent, seed=1)
    windows = [(t["start"], t["end"]) for i in infos[:-1] for c in i["tool_calls"] for t in c["arguments"]["targets"]]
    assert windows == [(0, 10), (10, 21), (0, 10)]  # never the same call twice in a row
    assert agent.episode_stats()["first_repeat"] == 1 and agent.episode_stats()["resamples"] == 1
    # The loop breaker is the resampling: without draws the greedy loop goes on.
    backend = _Replies([same, same, same, _ANSWER_B], lambda s: None)
    agent = LLMAgent(backend, action_space=sim_env.action_space, resample=0)
    infos = _play(sim_env, agent, seed=1)
    assert len(infos) == 4 and agent.episode_stats()["sent_repeat"] == 2


def test_guided_decoding_makes_a_random_model_write_tool_calls(tmp_path, mini_suite_path, one_torch_thread):
    """A tiny random model writes garbage unguided (test_random_hf_model_gets_format_penalties);
    guided, every reply is a tool call of the env's tools within their JSON schemas."""
    pytest.importorskip("llguidance")
    from tiny_models import tiny_qwen2

    from cvr_gym.core.parsing import ActionParseError, parse_action

    model_dir = tiny_qwen2(tmp_path / "tiny")
    out = tmp_path / "guided.jsonl"
    code = cli_main(["eval", "--agent", f"llm:hf:{model_dir},guided=1,focus_chars=8,max_tokens=400,temperature=1.0",
                     "--suite", str(mini_suite_path), "--split", "all", "--episodes", "2", "--out", str(out),
                     "--env-arg", "max_steps=4", "--no-progress"])
    assert code == 0
    replies = 0
    for rec in map(json.loads, out.read_text().splitlines()):
        assert "error" not in rec, rec.get("error")
        assert rec["agent_stats"]["turns"] == len(rec["actions"])
        for action in rec["actions"]:
            replies += 1
            assert action.startswith("<tool_call>\n") and action.endswith("\n</tool_call>"), action
            call = json.loads(action[len("<tool_call>\n"):-len("\n</tool_call>")])
            assert call["name"] in ("observe", "listen", "answer")
            try:
                parse_action(action)
            except ActionParseError as err:  # what a JSON schema cannot say: window order
                assert "must be after start" in str(err), (action, err)
            if call["name"] != "answer":
                assert len(call["arguments"].get("focus", "")) <= 8
    assert replies >= 2


def test_guided_grammar_refuses_the_wrong_tool_arguments():
    pytest.importorskip("llguidance")
    import llguidance

    from baselines.llm_guided import tool_call_lark
    from cvr_gym.core.spaces import ToolCallSpace

    grammar = llguidance.LLMatcher.grammar_from_lark(tool_call_lark(ToolCallSpace(), focus_chars=5, max_calls=2))

    def accepted(text):
        # A byte-level tokenizer: the grammar judges the text itself.
        tokenizer = llguidance.LLTokenizer("byte")
        matcher = llguidance.LLMatcher(tokenizer, grammar)
        ids = tokenizer.tokenize_str(text)
        return matcher.try_consume_tokens(ids) == len(ids) and matcher.is_accepting()

    assert accepted(_OBSERVE % ("0", "10"))
    assert accepted(_OBSERVE % ("0", "10") + "\n" + _ANSWER_B)  # two calls
    assert not accepted(_OBSERVE % ("0", "10") + "\n" + _ANSWER_B + "\n" + _ANSWER_B)  # max_calls=2
    assert not accepted('<tool_call>\n{"name": "observe", "arguments": {"answer": "A"}}\n</tool_call>')
    assert not accepted('<tool_call>\n{"name": "zoom", "arguments": {}}\n</tool_call>')
    assert not accepted('<tool_call>\n{"name": "listen", "arguments": {"video": 1, "focus": "too long"}}\n</tool_call>')
    assert not accepted("I think the answer is B")


def test_the_shipped_adapter_spec_turns_the_decoding_aids_on():
    from pathlib import Path

    meta = json.loads((Path(__file__).parents[1] / "examples/llm/smollm2-sft/cvr_llm.json").read_text())
    assert meta["agent"]["guided"] == 1 and meta["agent"]["resample"] >= 1
    assert parse_llm_spec("smollm2-sft,guided=0,resample=0") == ("hf", "smollm2-sft", {"guided": 0, "resample": 0})
    with pytest.raises(ValueError, match="hf backend"):
        make_agent("llm:openai:http://127.0.0.1:9/v1#m,guided=1")
