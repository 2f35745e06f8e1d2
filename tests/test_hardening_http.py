"""The OpenAI-compatible HTTP client against loopback servers that misbehave."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from cvr_gym.perception.base import PerceptionError
from cvr_gym.perception.http_backends import OpenAIAudioBackend, OpenAIVisualBackend


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        state = self.server.state
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with state["lock"]:
            state["requests"].append({"path": self.path, "headers": dict(self.headers)})
        mode = state["mode"]
        try:
            if mode == "redirect":
                self.send_response(302)
                self.send_header("Location", state["target"] + self.path)
                self.end_headers()
            elif mode == "drip":  # headers at once, then one byte every 0.2 s for a long time
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                for _ in range(150):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif mode == "drip_headers":  # even the status line arrives a byte at a time
                for b in b"HTTP/1.0 200 OK\r\nX-Slow: " + b"a" * 150:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.2)
            elif mode in ("huge", "huge_declared"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if mode == "huge_declared":
                    self.send_header("Content-Length", str(300 * 2**20))
                self.end_headers()
                for _ in range(64):
                    self.wfile.write(b" " * 65536)
            else:
                body = state["body"]
                self.send_response(200)
                self.send_header("Content-Type", state.get("content_type", "application/json"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _serve():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = {"lock": threading.Lock(), "requests": [], "mode": "ok", "body": b"{}"}
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture(scope="module")
def servers():
    pair = (_serve(), _serve())
    yield pair
    for s in pair:
        s.shutdown()
        s.server_close()


@pytest.fixture
def srv(servers):
    for s in servers:
        s.state.update(requests=[], mode="ok", body=b"{}", content_type="application/json")
    return servers


def _url(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/v1"


def _chat(text: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()


FRAME = [np.zeros((8, 8, 3), np.uint8)]


def test_redirects_to_another_host_are_not_followed_and_carry_no_key(srv, monkeypatch):
    a, b = srv
    monkeypatch.setenv("CVR_TEST_KEY", "sk-secret")
    a.state.update(mode="redirect", target=f"http://localhost:{b.server_address[1]}")
    backend = OpenAIVisualBackend(_url(a), api_key_env="CVR_TEST_KEY", timeout=2, retries=1, backoff=0)
    with pytest.raises(PerceptionError, match="redirected .*HTTP 302.*not followed"):
        backend.describe(FRAME, [0.0], "")
    assert a.state["requests"][0]["headers"].get("Authorization") == "Bearer sk-secret"
    assert b.state["requests"] == []  # the other host never saw a request, let alone the key
    assert len(a.state["requests"]) == 1  # not retried


@pytest.mark.parametrize("mode", ["drip", "drip_headers"])
def test_the_timeout_bounds_the_whole_call_not_each_read(srv, mode):
    srv[0].state["mode"] = mode
    backend = OpenAIVisualBackend(_url(srv[0]), api_key_env=None, timeout=1.0, retries=0, backoff=0)
    t0 = time.monotonic()
    with pytest.raises(PerceptionError, match="timed out after 1 s"):
        backend.describe(FRAME, [0.0], "")
    assert time.monotonic() - t0 < 5.0  # the server would drip for 30 s


@pytest.mark.parametrize("mode", ["huge", "huge_declared"])
def test_replies_over_the_size_cap_are_refused(srv, mode):
    srv[0].state["mode"] = mode
    backend = OpenAIVisualBackend(_url(srv[0]), api_key_env=None, timeout=5, retries=2, backoff=0)
    backend._http.max_reply_bytes = 2**20
    with pytest.raises(PerceptionError, match="more than 1048576 bytes"):
        backend.describe(FRAME, [0.0], "")
    assert len(srv[0].state["requests"]) == 1


AUDIO = np.zeros(16_000, np.float32)


@pytest.mark.parametrize("response_format", ["verbose_json", "json", "text"])
@pytest.mark.parametrize("body", [b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
                                  b"<html><head><title>Error</title></head></html>",
                                  bytes(range(256)) * 4, b"\x00\x01\x02garbage\xff\xfe"])
def test_error_pages_and_garbage_are_not_speech(srv, response_format, body):
    srv[0].state.update(body=body, content_type="text/html")
    backend = OpenAIAudioBackend(_url(srv[0]), api_key_env=None, timeout=2, retries=0, backoff=0,
                                 response_format=response_format)
    with pytest.raises(PerceptionError, match="transcription reply"):
        backend.transcribe(AUDIO, 0.0, "")


def test_plain_text_transcripts_still_work(srv):
    srv[0].state.update(body="hello there, général\n".encode(), content_type="text/plain")
    backend = OpenAIAudioBackend(_url(srv[0]), api_key_env=None, timeout=2, retries=0, backoff=0,
                                 response_format="text")
    [ev] = backend.transcribe(AUDIO, 3.0, "")
    assert ev.content == "hello there, général" and ev.start == 3.0


def test_lone_surrogates_in_replies_are_replaced(srv):
    srv[0].state["body"] = _chat("a sign reading \ud800 open")  # json.dumps writes the escape
    backend = OpenAIVisualBackend(_url(srv[0]), api_key_env=None, timeout=2, retries=0, backoff=0)
    [[ev]] = backend.describe(FRAME, [0.0], "")
    assert ev.content == "a sign reading \ufffd open"
    ev.content.encode("utf-8")
    srv[0].state["body"] = json.dumps({"text": "x \udfff y", "segments": [
        {"start": 0, "end": 1, "text": "x \udfff y"}]}).encode()
    [seg] = OpenAIAudioBackend(_url(srv[0]), api_key_env=None, timeout=2, retries=0, backoff=0).transcribe(AUDIO, 0, "")
    assert seg.content == "x \ufffd y"


def test_the_judge_does_not_follow_redirects_or_read_without_bound(srv):
    from cvr_gym.core.ccqa_judge import JudgeError, OpenAIJudge

    a, b = srv
    a.state.update(mode="redirect", target=f"http://localhost:{b.server_address[1]}")
    judge = OpenAIJudge(_url(a), model="m", api_key="sk-secret", timeout=5)
    with pytest.raises(JudgeError, match="redirects are not followed"):
        judge(question="q", answer="a", points=["p"], output="o")
    assert a.state["requests"][0]["headers"].get("Authorization") == "Bearer sk-secret"
    assert b.state["requests"] == []
    for body in (b"[" * 100_000, b'{"choices": NaN}', b"<html>502</html>"):
        a.state.update(mode="ok", body=body)
        with pytest.raises(JudgeError, match="not JSON"):
            judge(question="q", answer="a", points=["p"], output="o")
    a.state.update(mode="ok", body=_chat('<score>{"coverage": [1], "correctness": [0]}</score>'))
    assert judge(question="q", answer="a", points=["p"], output="o") == ([True], [False])


def test_the_judge_timeout_bounds_the_whole_call_and_its_replies_are_capped(srv):
    from cvr_gym.core.ccqa_judge import JudgeError, OpenAIJudge

    judge = OpenAIJudge(_url(srv[0]), model="m", timeout=1.0, retries=0)
    srv[0].state["mode"] = "drip"
    t0 = time.monotonic()
    with pytest.raises(JudgeError, match="timed out after 1 s"):
        judge(question="q", answer="a", points=["p"], output="o")
    assert time.monotonic() - t0 < 5.0  # the server would drip for 30 s
    srv[0].state["mode"] = "huge_declared"
    with pytest.raises(JudgeError, match="more than"):
        judge(question="q", answer="a", points=["p"], output="o")


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"choices": [{"message": {"content": NaN}}]}'])
def test_deeply_nested_or_nan_replies_are_perception_errors(srv, body):
    srv[0].state["body"] = body
    with pytest.raises(PerceptionError, match="not JSON"):
        OpenAIVisualBackend(_url(srv[0]), api_key_env=None, timeout=2, retries=0, backoff=0).describe(FRAME, [0.0], "")
    with pytest.raises(PerceptionError, match="not JSON"):
        OpenAIAudioBackend(_url(srv[0]), api_key_env=None, timeout=2, retries=0, backoff=0).transcribe(AUDIO, 0.0, "")
