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
