"""Model backends: transformers (tiny random models built here) and OpenAI-compatible HTTP
(a local stdlib server). Nothing is downloaded."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers/huggingface_hub are imported

import base64
import email.parser
import email.policy
import io
import json
import math
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from cvr_gym.core.evidence import Evidence
from cvr_gym.perception.base import PerceptionError
from cvr_gym.perception.registry import audio_backend, visual_backend

try:
    from tests.tiny_models import tiny_idefics3, tiny_whisper
except ImportError:  # tests/ is not a package: pytest puts this directory on sys.path
    from tiny_models import tiny_idefics3, tiny_whisper


def _frames(n: int = 2, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(24 + 8 * i, 32, 3), dtype=np.uint8) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# transformers backends with tiny random models
# ---------------------------------------------------------------------------------------------
pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def idefics3_dir(tmp_path_factory):
    return tiny_idefics3(tmp_path_factory.mktemp("tiny_idefics3"))


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory):
    return tiny_whisper(tmp_path_factory.mktemp("tiny_whisper"))


def _no_special_tokens(model_dir) -> dict:
    """Generation settings that make a random model always print some ordinary bytes."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    return {"min_new_tokens": 3, "suppress_tokens": sorted(set(tok.all_special_ids))}


def test_hf_visual_backend_on_tiny_idefics3(idefics3_dir):
    from cvr_gym.perception.hf_backends import HFVisualBackend

    backend = visual_backend(f"hf:{idefics3_dir}", {
        "device": "cpu", "max_new_tokens": 5, "batch_size": 2,
        "prompt_template": "Describe what is visible at {time} s. Focus: {focus}",
        "generate_kwargs": _no_special_tokens(idefics3_dir)})
    assert isinstance(backend, HFVisualBackend) and backend.name == f"hf:{idefics3_dir}"
    assert not backend.loaded  # lazy

    backend.load()
    seen = []
    original = backend._processor.apply_chat_template

    def spy(conversations, **kwargs):
        seen.extend(conversations)
        return original(conversations, **kwargs)

    backend._processor.apply_chat_template = spy
    out = backend.describe(_frames(2), [1.25, 3.5], "the red car")

    assert len(out) == 2
    for records, t in zip(out, [1.25, 3.5]):
        assert len(records) == 1
        ev = records[0]
        assert isinstance(ev, Evidence)
        assert (ev.kind, ev.video, ev.start, ev.end) == ("visual", 0, t, t)
        assert isinstance(ev.content, str) and ev.content
        assert 0.0 <= ev.confidence <= 1.0
    # Both frames went into one batch, each with its image and the focus prompt.
    assert len(seen) == 2
    texts = [part["text"] for conv in seen for part in conv[0]["content"] if part["type"] == "text"]
    assert texts == ["Describe what is visible at 1.2 s. Focus: the red car",
                     "Describe what is visible at 3.5 s. Focus: the red car"]
    assert all(conv[0]["content"][0]["type"] == "image" for conv in seen)

    # Batching does not change what greedy decoding produces.
    backend.batch_size = 1
    assert [r[0].content for r in backend.describe(_frames(2), [1.25, 3.5], "the red car")] == \
        [r[0].content for r in out]
    assert backend.describe([], [], "x") == []


def test_hf_visual_backend_errors(idefics3_dir, tmp_path, monkeypatch):
    import huggingface_hub.constants

    from cvr_gym.perception.hf_backends import BackendLoadError, HFVisualBackend

    # The hub reads HF_HUB_OFFLINE once at import; make sure a hub id never reaches the network.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    backend = HFVisualBackend(str(idefics3_dir), device="cpu", max_new_tokens=2)
    with pytest.raises(PerceptionError, match="frames but"):
        backend.describe(_frames(2), [0.0], "")
    with pytest.raises(PerceptionError, match="failed on 1 frame"):
        backend.describe([np.zeros((4, 4, 7), dtype=np.uint8)], [2.0], "")

    missing = tmp_path / "no_model_here"
    with pytest.raises(BackendLoadError, match="no_model_here"):
        HFVisualBackend(str(missing)).describe(_frames(1), [0.0], "")
    with pytest.raises(BackendLoadError, match="HF_HUB_OFFLINE") as info:
        HFVisualBackend("cvr-gym-tests/no-such-model", device="cpu").load()
    assert "cvr-gym-tests/no-such-model" in str(info.value)
    assert not issubclass(BackendLoadError, PerceptionError)  # a config error is not swallowed


def test_hf_audio_backend_on_tiny_whisper(whisper_dir):
    from cvr_gym.perception.hf_backends import HFAudioBackend

    backend = audio_backend(f"hf:{whisper_dir}", {"device": "cpu"})
    assert isinstance(backend, HFAudioBackend) and not backend.loaded
    noise = (0.1 * np.random.default_rng(1).standard_normal(16_000)).astype(np.float32)
    records = backend.transcribe(noise, 10.0, "what is said")
    assert backend._timestamps is True  # Whisper with timestamp tokens: segment times used
    assert records, "the tiny model prints some bytes for this input"
    for ev in records:
        assert isinstance(ev, Evidence) and ev.kind == "speech" and ev.video == 0 and ev.content
        assert 10.0 <= ev.start <= ev.end <= 11.0  # absolute, clipped to the window
    assert backend.transcribe(np.zeros(0, dtype=np.float32), 3.0, "") == []
    with pytest.raises(PerceptionError, match="mono"):
        backend.transcribe(np.zeros((2, 2, 2), dtype=np.float32), 0.0, "")


def test_hf_audio_records_from_pipeline_output():
    from cvr_gym.perception.hf_backends import HFAudioBackend

    backend = HFAudioBackend("unused")
    backend._timestamps = True
    out = backend._records({"text": "hello there general", "chunks": [
        {"timestamp": (0.0, 1.5), "text": " hello there"},
        {"timestamp": (1.5, None), "text": " general"},
        {"timestamp": (9.0, 12.0), "text": "  "}]}, start=20.0, duration=2.0)
    assert [(e.start, e.end, e.content) for e in out] == [(20.0, 21.5, "hello there"), (21.5, 22.0, "general")]

    backend._timestamps = "word"  # CTC words are grouped at pauses
    out = backend._records({"text": "a b c", "chunks": [
        {"timestamp": (0.1, 0.3), "text": "a"}, {"timestamp": (0.4, 0.6), "text": "b"},
        {"timestamp": (2.0, 2.2), "text": "c"}]}, start=5.0, duration=3.0)
    assert [(e.start, e.end, e.content) for e in out] == [(5.1, 5.6, "a b"), (7.0, 7.2, "c")]

    backend._timestamps = False
    out = backend._records({"text": " plain text "}, start=1.0, duration=4.0)
    assert [(e.start, e.end, e.kind, e.content) for e in out] == [(1.0, 5.0, "speech", "plain text")]
    assert backend._records({"text": ""}, start=1.0, duration=4.0) == []


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible HTTP backends against a local server
# ---------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, payload) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def do_POST(self):  # noqa: N802 - http.server API
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with state["lock"]:
            state["requests"].append({"path": self.path, "headers": dict(self.headers), "body": body})
            mode = state["modes"].pop(0) if state["modes"] else "ok"
        if mode == "slow":
            time.sleep(state["slow_s"])
        elif mode == "500":
            return self._send(500, {"error": {"message": "engine overloaded"}})
        elif mode == "400":
            return self._send(400, {"error": {"message": "image too large for this model"}})
        if self.path.endswith("/chat/completions"):
            request = json.loads(body)
            images = [p for p in request["messages"][0]["content"] if p["type"] == "image_url"]
            if mode == "unlabelled" or len(images) == 1:
                text = "a street with a parked car"
            else:
                text = "\n".join(f"Frame {i + 1}: scene number {i + 1}" for i in range(len(images)))
            return self._send(200, {"id": "x", "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
        if self.path.endswith("/audio/transcriptions"):
            if mode == "plain":
                return self._send(200, {"text": " just text "})
            return self._send(200, {"text": "hello there general kenobi", "segments": [
                {"id": 0, "start": 0.0, "end": 0.6, "text": " hello there", "avg_logprob": -0.1},
                {"id": 1, "start": 0.6, "end": 5.0, "text": " general kenobi"},
                {"id": 2, "start": 0.9, "end": 1.0, "text": " "}]})
        return self._send(404, {"error": {"message": "no such route"}})


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = {"lock": threading.Lock(), "requests": [], "modes": [], "slow_s": 1.0}
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def srv(server):
    server.state["requests"].clear()
    server.state["modes"].clear()
    return server


def _url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def _fast(**kw) -> dict:
    return {"timeout": 2.0, "retries": 2, "backoff": 0.01, **kw}


def test_openai_visual_request_body_and_labelled_reply(srv, monkeypatch):
    from cvr_gym.perception.http_backends import OpenAIVisualBackend

    monkeypatch.setenv("CVR_TEST_VLM_KEY", "sk-test-secret-123")
    backend = visual_backend(f"openai:{_url(srv)}", _fast(model="tiny-vlm", api_key_env="CVR_TEST_VLM_KEY"))
    assert isinstance(backend, OpenAIVisualBackend)
    frames = _frames(3)
    out = backend.describe(frames, [0.5, 1.5, 2.5], "the red car")
    assert [[(e.kind, e.video, e.start, e.end, e.content) for e in r] for r in out] == [
        [("visual", 0, t, t, f"scene number {i + 1}")] for i, t in enumerate([0.5, 1.5, 2.5])]

    (req,) = srv.state["requests"]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test-secret-123"
    body = json.loads(req["body"])
    assert body["model"] == "tiny-vlm"
    content = body["messages"][0]["content"]
    images = [p["image_url"]["url"] for p in content if p["type"] == "image_url"]
    assert len(images) == 3
    from PIL import Image

    for url, frame in zip(images, frames):
        assert url.startswith("data:image/jpeg;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert image.format == "JPEG" and image.size == (frame.shape[1], frame.shape[0])
    texts = [p["text"] for p in content if p["type"] == "text"]
    assert texts[:3] == ["Frame 1 (t=0.5 s):", "Frame 2 (t=1.5 s):", "Frame 3 (t=2.5 s):"]
    assert "Focus: the red car" in texts[-1] and "Frame N:" in texts[-1]


def test_openai_visual_batches_unlabelled_replies_and_no_key(srv, monkeypatch):
    from cvr_gym.perception.http_backends import OpenAIVisualBackend

    monkeypatch.delenv("CVR_TEST_VLM_KEY", raising=False)
    backend = OpenAIVisualBackend(_url(srv), api_key_env="CVR_TEST_VLM_KEY", max_frames_per_request=2,
                                  image_format="png", **_fast())
    srv.state["modes"].extend(["unlabelled", "unlabelled"])
    out = backend.describe(_frames(3), [1.0, 2.0, 3.0], "")
    # One answer for a two-frame request is attached to both frames; the last frame went alone.
    assert [[(e.start, e.content) for e in r] for r in out] == [
        [(1.0, "a street with a parked car")], [(2.0, "a street with a parked car")],
        [(3.0, "a street with a parked car")]]
    reqs = srv.state["requests"]
    assert len(reqs) == 2 and all("Authorization" not in r["headers"] for r in reqs)
    counts = sorted(sum(p["type"] == "image_url" for p in json.loads(r["body"])["messages"][0]["content"])
                    for r in reqs)
    assert counts == [1, 2]
    first = json.loads(reqs[0]["body"])["messages"][0]["content"]
    assert any(p["type"] == "image_url" and p["image_url"]["url"].startswith("data:image/png;base64,") for p in first)
    assert "Focus: anything notable" in first[-1]["text"]


def test_openai_visual_retries_then_succeeds_on_500(srv):
    backend = visual_backend(f"openai:{_url(srv)}", _fast(retries=2))
    srv.state["modes"].extend(["500"])
    out = backend.describe(_frames(1), [4.0], "x")
    assert out[0][0].content == "a street with a parked car"
    assert len(srv.state["requests"]) == 2


def test_openai_visual_timeout_is_retried_then_reported(srv, monkeypatch):
    monkeypatch.setenv("CVR_TEST_VLM_KEY", "sk-test-secret-123")
    srv.state["slow_s"] = 1.0
    backend = visual_backend(f"openai:{_url(srv)}",
                             {"timeout": 0.25, "retries": 1, "backoff": 0.01, "api_key_env": "CVR_TEST_VLM_KEY"})
    srv.state["modes"].extend(["slow", "slow"])
    t0 = time.perf_counter()
    with pytest.raises(PerceptionError) as info:
        backend.describe(_frames(1), [0.0], "x")
    elapsed = time.perf_counter() - t0
    message = str(info.value)
    assert "timed out" in message and f"{_url(srv)}/chat/completions" in message and "2 attempt(s)" in message
    assert "sk-test-secret-123" not in message
    assert len(srv.state["requests"]) == 2
    assert elapsed < 1.5  # two 0.25 s timeouts, not two 1 s waits for the slow server


def test_openai_visual_client_error_is_not_retried(srv):
    backend = visual_backend(f"openai:{_url(srv)}", _fast(retries=3))
    srv.state["modes"].extend(["400", "400", "400", "400"])
    with pytest.raises(PerceptionError) as info:
        backend.describe(_frames(1), [0.0], "x")
    assert "HTTP 400" in str(info.value) and "image too large" in str(info.value) and "not retried" in str(info.value)
    assert len(srv.state["requests"]) == 1


def test_openai_errors_after_retries_exhausted(srv):
    backend = visual_backend(f"openai:{_url(srv)}", _fast(retries=1))
    srv.state["modes"].extend(["500", "500"])
    with pytest.raises(PerceptionError, match=r"failed after 2 attempt\(s\): HTTP 500: engine overloaded"):
        backend.describe(_frames(1), [0.0], "x")
    # Nothing listening: connection errors are retried, then reported.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = visual_backend(f"openai:http://127.0.0.1:{port}/v1", _fast(retries=1))
    with pytest.raises(PerceptionError, match="connection error"):
        dead.describe(_frames(1), [0.0], "x")


def _multipart_fields(req) -> dict:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {req['headers']['Content-Type']}\r\n\r\n".encode() + req["body"])
    fields = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
    return fields


def test_openai_audio_request_and_segments(srv, monkeypatch):
    from cvr_gym.perception.http_backends import OpenAIAudioBackend

    monkeypatch.setenv("CVR_TEST_ASR_KEY", "sk-asr-456")
    backend = audio_backend(f"openai:{_url(srv)}", _fast(api_key_env="CVR_TEST_ASR_KEY", language="en"))
    assert isinstance(backend, OpenAIAudioBackend)
    tone = (0.5 * np.sin(np.linspace(0, 2 * np.pi * 440, 16_000))).astype(np.float32)
    out = backend.transcribe(tone, 10.0, "who speaks")
    assert [(e.kind, e.video, e.start, e.end, e.content) for e in out] == [
        ("speech", 0, 10.0, 10.6, "hello there"), ("speech", 0, 10.6, 11.0, "general kenobi")]
    assert out[0].confidence == pytest.approx(math.exp(-0.1), abs=1e-4) and out[1].confidence == 1.0

    (req,) = srv.state["requests"]
    assert req["path"] == "/v1/audio/transcriptions"
    assert req["headers"]["Authorization"] == "Bearer sk-asr-456"
    fields = _multipart_fields(req)
    assert fields["model"][2] == b"whisper-1" and fields["response_format"][2] == b"verbose_json"
    assert fields["language"][2] == b"en" and "prompt" not in fields
    filename, ctype, wav_bytes = fields["file"]
    assert filename == "audio.wav" and ctype == "audio/wav"
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()) == (1, 2, 16_000, 16_000)
        pcm = np.frombuffer(wav.readframes(16_000), dtype="<i2")
    assert np.allclose(pcm / 32767.0, tone, atol=1e-4)


def test_openai_audio_plain_text_retries_and_client_errors(srv):
    backend = audio_backend(f"openai:{_url(srv)}", _fast(retries=2, focus_as_prompt=True))
    srv.state["modes"].extend(["500", "plain"])
    out = backend.transcribe(np.zeros(8_000, dtype=np.float32), 3.0, "names")
    assert [(e.start, e.end, e.content) for e in out] == [(3.0, 3.5, "just text")]
    assert len(srv.state["requests"]) == 2
    assert _multipart_fields(srv.state["requests"][-1])["prompt"][2] == b"names"

    srv.state["requests"].clear()
    srv.state["modes"].extend(["400"])
    with pytest.raises(PerceptionError, match="HTTP 400"):
        backend.transcribe(np.zeros(8_000, dtype=np.float32), 0.0, "")
    assert len(srv.state["requests"]) == 1
    assert backend.transcribe(np.zeros(0, dtype=np.float32), 0.0, "") == []


def test_cache_keys_and_focus_use():
    from cvr_gym.perception.hf_backends import HFAudioBackend, HFVisualBackend
    from cvr_gym.perception.http_backends import OpenAIAudioBackend, OpenAIVisualBackend

    a, b = HFVisualBackend("m", max_new_tokens=8), HFVisualBackend("m", max_new_tokens=8)
    assert a.cache_key == b.cache_key and a.uses_focus
    assert HFVisualBackend("m", max_new_tokens=9).cache_key != a.cache_key
    assert not HFVisualBackend("m", prompt_template="Describe the frame.").uses_focus
    assert HFAudioBackend("m").cache_key == HFAudioBackend("m").cache_key and not HFAudioBackend("m").uses_focus
    v = OpenAIVisualBackend("http://127.0.0.1:1/v1", model="x")
    assert v.cache_key == OpenAIVisualBackend("http://127.0.0.1:1/v1/", model="x").cache_key and v.uses_focus
    assert v.cache_key != OpenAIVisualBackend("http://127.0.0.1:1/v1", model="y").cache_key
    assert not OpenAIAudioBackend("http://127.0.0.1:1/v1").uses_focus
    assert OpenAIAudioBackend("http://127.0.0.1:1/v1", focus_as_prompt=True).uses_focus


def test_split_frame_answers():
    from cvr_gym.perception.http_backends import split_frame_answers

    assert split_frame_answers("Frame 1: a cat\nFrame 2: a dog", 2) == ["a cat", "a dog"]
    assert split_frame_answers("**Frame 2 (t=3.0 s):** a dog\n  running\n- Frame 1: a cat", 3) == \
        ["a cat", "a dog running", ""]
    assert split_frame_answers("two animals", 2) is None
    assert split_frame_answers("Frame 9: out of range", 2) is None


def test_http_backend_arguments_are_checked():
    from cvr_gym.perception.http_backends import OpenAIAudioBackend, OpenAIVisualBackend

    with pytest.raises(ValueError):
        OpenAIVisualBackend("localhost:8000")
    with pytest.raises(ValueError):
        OpenAIVisualBackend("http://localhost:8000/v1", image_format="gif")
    with pytest.raises(ValueError):
        OpenAIAudioBackend("http://localhost:8000/v1", timeout=0)
