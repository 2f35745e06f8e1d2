"""Cost accounting: what each tool call spends, in frames, visual tokens, audio and time.

Latencies are *modelled* (a fixed per-call overhead plus a per-unit rate) so that the simulator
reports the cost a real deployment would pay; the real env also reports measured wall time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CostModel:
    """Rates used to price tool calls.

    Arguments:
        tokens_per_frame: visual tokens one frame costs a VLM (Qwen2.5-VL at 448 px: about 256).
        observe_latency_s: fixed overhead of one visual-agent call, seconds.
        latency_per_frame_s: visual-agent time per frame, seconds.
        listen_latency_s: fixed overhead of one audio-agent call, seconds.
        latency_per_audio_s: audio-agent time per second of audio, seconds.
    """

    tokens_per_frame: int = 256
    observe_latency_s: float = 0.5
    latency_per_frame_s: float = 0.05
    listen_latency_s: float = 0.3
    latency_per_audio_s: float = 0.1

    def observe(self, frames: int, resize: float = 1.0) -> "CallCost":
        """``resize`` scales both sides of each frame, so visual tokens scale with its square (the
        patch count of a ViT; EVA's ``estimated_tokens`` in ``eval-eva.py``)."""
        tokens = frames * self.tokens_per_frame if resize == 1.0 else \
            frames * max(1, round(self.tokens_per_frame * resize * resize))
        return CallCost("observe", frames, tokens, 0.0, self.observe_latency_s + frames * self.latency_per_frame_s)

    def listen(self, seconds: float) -> "CallCost":
        return CallCost("listen", 0, 0, seconds, self.listen_latency_s + seconds * self.latency_per_audio_s)


@dataclass(frozen=True)
class CallCost:
    tool: str
    frames: int = 0
    visual_tokens: int = 0
    audio_seconds: float = 0.0
    latency_s: float = 0.0

    def to_dict(self) -> dict:
        # Written out: dataclasses.asdict deep-copies and dominates step() time.
        return {"tool": self.tool, "frames": self.frames, "visual_tokens": self.visual_tokens,
                "audio_seconds": self.audio_seconds, "latency_s": self.latency_s}


@dataclass
class CostTotals:
    """Running totals over an episode."""

    steps: int = 0
    tool_calls: int = 0
    invalid_actions: int = 0
    frames: int = 0
    visual_tokens: int = 0
    audio_seconds: float = 0.0
    latency_s: float = 0.0
    calls_by_tool: dict[str, int] = field(default_factory=lambda: {"observe": 0, "listen": 0, "answer": 0})

    def add(self, cost: CallCost) -> None:
        self.tool_calls += 1
        self.calls_by_tool[cost.tool] += 1
        self.frames += cost.frames
        self.visual_tokens += cost.visual_tokens
        self.audio_seconds += cost.audio_seconds
        self.latency_s += cost.latency_s

    def to_dict(self) -> dict:
        return {"steps": self.steps, "tool_calls": self.tool_calls, "invalid_actions": self.invalid_actions,
                "frames": self.frames, "visual_tokens": self.visual_tokens, "audio_seconds": self.audio_seconds,
                "latency_s": self.latency_s, "calls_by_tool": dict(self.calls_by_tool)}
