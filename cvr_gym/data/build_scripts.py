"""Scripts from real videos: run the real env's perception densely and write what it reports.

Visual: frames are sampled at ``fps`` per second (at the centres of ``1 / fps`` bins; every
frame at its own time when ``fps`` reaches the video's frame rate), decoded
and scaled exactly as :class:`~cvr_gym.envs.video_perceiver.VideoPerceiver` does (same
:class:`~cvr_gym.perception.decode.MediaReader`, same ``max_side``) and described by the same
visual backend, in batches so that a static scene is OCR-ed once. Consecutive frames reporting
the same (kind, content) merge into one item (:func:`~cvr_gym.envs.video_perceiver.merge_frames`)
whose span reaches half a sampling interval beyond its first and last frame, so the simulator
sees it at the times the real env would. ``"scene change"`` records are left out: the real
backend reports them relative to the previous frame *of the same call*, which a script cannot
know.

Audio: the whole track is decoded at 16 kHz and heard in chunks of at most ``chunk`` seconds cut
at the quietest moment near each boundary (so sentences and beeps are rarely split); speech and
sound records keep their absolute times.

A suite built from these scripts gives ``CVRSim-v0`` the perception of ``CVRReal-v0`` on the
same files (up to sampling), which is what training in the simulator for a real corpus needs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvr_gym.core.evidence import Evidence, ScriptItem
from cvr_gym.core.suites import SPLITS, Suite, load_suite
from cvr_gym.core.tasks import Task, VideoSpec
from cvr_gym.perception.merge import merge_frames
from cvr_gym.perception.base import AUDIO_SAMPLE_RATE
from cvr_gym.perception.decode import MediaInfo, MediaReader
from cvr_gym.perception.registry import audio_backend, visual_backend

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")
DROPPED = {("visual", "scene change")}


@dataclass
class BuildConfig:
    """How densely and with what to perceive.

    Arguments:
        fps: visual frames per second of video (the video's own rate or more: every frame, which
            gives spans exact to the frame; OCR runs only when the picture changes).
        visual, audio: backend specs (``"offline"``, ``"hf:..."``, ``"openai:..."``) or objects.
        visual_options, audio_options: keyword arguments for the backends.
        max_side: frames are scaled so their longest side is at most this (as the real env).
        batch: frames per visual backend call.
        chunk: longest audio chunk in seconds.
    """

    fps: float = 1.0
    visual: Any = "offline"
    audio: Any = "offline"
    visual_options: dict[str, Any] | None = None
    audio_options: dict[str, Any] | None = None
    max_side: int = 640
    batch: int = 32
    chunk: float = 30.0


class ScriptBuilder:
    """Perceives whole videos into script items. Backends load once and are reused."""

    def __init__(self, config: BuildConfig | None = None):
        self.config = config or BuildConfig()
        if self.config.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.config.fps}")
        self.visual = visual_backend(self.config.visual, self.config.visual_options)
        self.audio = audio_backend(self.config.audio, self.config.audio_options)

    def perceive(self, path: str | Path, progress: Callable[[float], None] | None = None
                 ) -> tuple[MediaInfo, tuple[ScriptItem, ...]]:
        """The file's :class:`MediaInfo` and its script. ``progress`` gets seconds of video done
        (half the duration for the picture, half for the sound)."""
        with MediaReader(path, max_side=self.config.max_side) as reader:
            reader.validate()
            info = reader.info
            items = self._visual(reader, info, progress)
            if info.has_audio:
                items += self._audio(reader, info, progress)
            elif progress is not None:
                progress(info.duration / 2)
        items.sort(key=lambda i: (i.start, i.end, i.kind, i.content))
        return info, tuple(items)

    # -- pictures -------------------------------------------------------------------------------
    def _visual(self, reader: MediaReader, info: MediaInfo,
                progress: Callable[[float], None] | None) -> list[ScriptItem]:
        if info.fps and self.config.fps >= info.fps:
            # Every frame, at its own time: spans then end exactly where the real env's frames change.
            step = 1.0 / info.fps
            times = [round(k * step, 4) for k in range(max(1, round(info.duration * info.fps)))]
        else:
            step = 1.0 / self.config.fps
            times = [round((k + 0.5) * step, 4) for k in range(max(1, math.floor(info.duration * self.config.fps)))]
        per_frame: list[list[Evidence]] = []
        for i in range(0, len(times), self.config.batch):
            batch = times[i:i + self.config.batch]
            frames = reader.frames_at(batch)
            # One call per batch: the backend reuses OCR across identical consecutive frames.
            per_frame.extend(self.visual.describe(frames, batch, ""))
            if progress is not None:
                progress(len(batch) * step / 2)
        half = step / 2
        out = []
        for ev in merge_frames(per_frame, times):
            if (ev.kind, ev.content) in DROPPED:
                continue
            out.append(ScriptItem(start=round(max(0.0, ev.start - half), 3),
                                  end=round(min(info.duration, ev.end + half), 3),
                                  kind=ev.kind, content=ev.content, attributes=dict(ev.attributes)))
        return out

    # -- sound ----------------------------------------------------------------------------------
    def _audio(self, reader: MediaReader, info: MediaInfo,
               progress: Callable[[float], None] | None) -> list[ScriptItem]:
        samples = reader.audio(0.0, info.duration)
        out = []
        for a, b in quiet_cuts(samples, self.config.chunk):
            for ev in self.audio.transcribe(samples[a:b], a / AUDIO_SAMPLE_RATE, ""):
                out.append(ScriptItem(start=round(ev.start, 3), end=round(max(ev.start, ev.end), 3), kind=ev.kind,
                                      content=ev.content, attributes=dict(ev.attributes)))
            if progress is not None:
                progress((b - a) / AUDIO_SAMPLE_RATE / 2)
        return out


def quiet_cuts(samples: np.ndarray, chunk: float, rate: int = AUDIO_SAMPLE_RATE) -> list[tuple[int, int]]:
    """``[a, b)`` sample ranges of at most ``chunk`` seconds covering ``samples``, each cut at the
    quietest 50 ms in the last quarter of its chunk."""
    n, size = len(samples), max(1, int(chunk * rate))
    hop = rate // 20
    cuts, a = [], 0
    while n - a > size:
        lo, hi = a + (3 * size) // 4, a + size
        window = samples[lo:hi]
        frames = len(window) // hop
        if frames:
            energy = np.square(window[: frames * hop].reshape(frames, hop)).mean(axis=1)
            cut = lo + int(np.argmin(energy)) * hop + hop // 2
        else:
            cut = hi
        cuts.append((a, cut))
        a = cut
    cuts.append((a, n))
    return cuts


# -- suites and folders ---------------------------------------------------------------------------
def is_suite(source: str | Path) -> bool:
    """A ``.jsonl`` task file, a folder holding one, or the name of a bundled suite."""
    path = Path(source)
    if path.suffix == ".jsonl" or (path.is_dir() and any(path.glob("*.jsonl"))):
        return True
    if not path.exists():
        from cvr_gym.core.suites import bundled_suites

        return str(source) in bundled_suites()
    return False


def video_files(source: str | Path) -> list[Path]:
    path = Path(source)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or folder: {path}")
    return sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())


def suite_videos(suite: Suite) -> list[str]:
    """The distinct video paths of a suite's tasks, in order of first use."""
    return list(dict.fromkeys(v.path for t in suite for v in t.videos if v.path))


def rescript(suite: Suite, scripts: dict[str, tuple[MediaInfo, tuple[ScriptItem, ...]]], root: Path) -> list[Task]:
    """The suite's tasks with every video's script replaced by its perceived one, paths relative
    to ``root`` (which must contain the videos)."""
    tasks = []
    for task in suite:
        videos = []
        for v in task.videos:
            if not v.path:
                raise ValueError(f"task {task.id}: video {v.index} has no file")
            info, script = scripts[v.path]
            rel = _relative(suite.resolve_path(v.path), root)
            items = tuple(i for i in script if i.start <= v.duration)
            videos.append(VideoSpec(index=v.index, duration=v.duration, fps=v.fps,
                                    has_audio=v.has_audio and info.has_audio, path=rel, script=items))
        meta = {**task.meta, "scripts": "perceived"}
        tasks.append(task.model_copy(update={"videos": tuple(videos), "meta": meta}))
    return tasks


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not inside {root}: write the new suite inside the folder that holds "
                         "the videos (task files may only name videos inside their own folder)") from None


def build_suite_scripts(source: str | Path | Suite, out: str | Path, split: str | None = None,
                        config: BuildConfig | None = None, progress: Callable[[float], None] | None = None,
                        builder: ScriptBuilder | None = None) -> list[Path]:
    """Perceive every video of a suite and write the suite again with perceived scripts.

    ``out`` is a ``.jsonl`` file (all tasks) or a folder (one ``<split>.jsonl`` per split); either
    must lie where the videos are inside its folder. Returns the files written.
    """
    out = Path(out)
    by_split = _suites(source, split)
    inputs = {f for s in by_split.values() for f in s.sources}
    targets = [out] if out.suffix == ".jsonl" else [out / f"{name}.jsonl" for name in by_split]
    for target in targets:
        if target.resolve() in inputs:
            raise ValueError(f"refusing to overwrite the input task file {target}; write somewhere else")
    builder = builder or ScriptBuilder(config)
    scripts: dict[str, tuple[MediaInfo, tuple[ScriptItem, ...]]] = {}
    for suite in by_split.values():
        for rel in suite_videos(suite):
            if rel not in scripts:
                scripts[rel] = builder.perceive(suite.resolve_path(rel), progress)
    written = []
    if out.suffix == ".jsonl":
        tasks = [t for suite in by_split.values() for t in rescript(suite, scripts, out.parent)]
        written.append(_write_tasks(tasks, out))
    else:
        for name, suite in by_split.items():
            written.append(_write_tasks(rescript(suite, scripts, out), out / f"{name}.jsonl"))
    return written


def _suites(source: str | Path | Suite, split: str | None) -> dict[str, Suite]:
    """Name -> suite: one per split file of a suite folder (or only ``split``), else one."""
    if isinstance(source, Suite):
        return {"tasks": source}
    path = Path(source)
    if not path.exists() and not str(source).endswith(".jsonl"):
        from cvr_gym.core.suites import data_dir

        path = data_dir() / str(source)
    if split is not None:
        return {split: load_suite(path, split=split)}
    if path.is_dir():
        files = [path / f"{s}.jsonl" for s in SPLITS if (path / f"{s}.jsonl").is_file()]
        return {p.stem: load_suite(p) for p in files or sorted(path.glob("*.jsonl"))}
    return {path.stem: load_suite(path)}


def build_video_scripts(source: str | Path, out: str | Path, config: BuildConfig | None = None,
                        progress: Callable[[float], None] | None = None, builder: ScriptBuilder | None = None) -> Path:
    """Perceive every video file under ``source`` and write one JSON line per video: ``path``
    (relative to ``source``'s folder), ``duration``, ``fps``, ``has_audio`` and ``script``."""
    files = video_files(source)
    if not files:
        raise FileNotFoundError(f"no video files ({', '.join(VIDEO_SUFFIXES)}) under {source}")
    base = Path(source) if Path(source).is_dir() else Path(source).parent
    builder = builder or ScriptBuilder(config)
    lines = []
    for f in files:
        info, script = builder.perceive(f, progress)
        lines.append(json.dumps({"path": f.relative_to(base).as_posix(), "duration": round(info.duration, 3),
                                 "fps": round(info.fps, 3), "has_audio": info.has_audio,
                                 "script": [i.model_dump(mode="json", exclude_defaults=True) for i in script]},
                                ensure_ascii=False, separators=(",", ":")))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return out


def total_seconds(source: str | Path | Suite, split: str | None = None) -> float:
    """Seconds of video a build over ``source`` perceives (for progress bars)."""
    if isinstance(source, Suite) or is_suite(source):
        suites = [source] if isinstance(source, Suite) else [load_suite(source, split=split)]
        seen: dict[str, float] = {}
        for s in suites:
            for t in s:
                for v in t.videos:
                    if v.path:
                        seen.setdefault(v.path, v.duration)
        return float(sum(seen.values()))
    total = 0.0
    for f in video_files(source):
        try:
            with MediaReader(f) as r:
                total += r.info.duration
        except Exception:  # unreadable files fail properly later, with their own message
            pass
    return total


def _write_tasks(tasks: Iterable[Task], path: Path) -> Path:
    from cvr_gym.data.render import task_line

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(task_line(t) + "\n" for t in tasks), encoding="utf-8")
    return path
