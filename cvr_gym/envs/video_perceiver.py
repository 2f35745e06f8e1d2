"""The real world's perceiver: decodes video files with PyAV and runs perception backends.

``observe`` decodes the frames nearest to the env's sampled times, has the visual backend
describe each frame, and merges the per-frame records: a (kind, content) pair seen on
consecutive sampled frames becomes one :class:`~cvr_gym.core.evidence.Evidence` from the first
to the last of those frame times. That is the shape the script perceiver returns for a script
item (first to last sampled time inside its span); a record that disappears and comes back is
reported twice, as two script items would be. ``listen`` decodes the audio window (mono, 16 kHz)
and has the audio backend report speech and sounds with absolute times.

Caching, so that the rollouts of a GRPO group (same task, often the same calls) neither decode
nor perceive twice: decoded frames are keyed by (file, time, size), perception results by
(file, times or window, backend, focus); the focus is left out of the key for backends whose
output ignores it (``uses_focus = False``). Both are bounded LRUs in a
:class:`~cvr_gym.perception.cache.PerceptionCache`, by default one shared by every perceiver of
the process; files are identified by path, modification time and size, so an edited file is never
served stale.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvr_gym.core.evidence import EVIDENCE_KINDS, Evidence
from cvr_gym.core.suites import Suite
from cvr_gym.core.tasks import Task
from cvr_gym.perception.base import BackendLoadError, PerceptionError
from cvr_gym.perception.cache import PerceptionCache, shared_cache, valid_files
from cvr_gym.perception.decode import MediaError, MediaInfo, ReaderCache, check_file, file_key
from cvr_gym.perception.merge import merge_frames
from cvr_gym.perception.registry import audio_backend, visual_backend


@dataclass
class PerceiverStats:
    """Counters of one perceiver: calls, cache hits, frames decoded and time spent (seconds)."""

    observe_calls: int = 0
    listen_calls: int = 0
    cache_hits: int = 0
    frame_cache_hits: int = 0
    frames_decoded: int = 0
    decode_seconds: float = 0.0
    perception_seconds: float = 0.0
    retries: int = 0
    failures: int = 0
    past_end_reads: int = 0

    @property
    def calls(self) -> int:
        return self.observe_calls + self.listen_calls

    def to_dict(self) -> dict[str, float]:
        return {"calls": self.calls, **asdict(self)}


#: A task may declare up to this many seconds (plus one frame) more than its file decodes.
DURATION_TOLERANCE = 0.5


class VideoPerceiver:
    """Answers ``observe``/``listen`` by decoding real files and running perception backends.

    Arguments:
        visual: a visual backend spec (``"offline"``, ``"hf:MODEL"``, ``"openai:URL"``) or object.
        audio: an audio backend spec or object.
        visual_options, audio_options: keyword arguments for the backends.
        max_side: frames are scaled down so their longest side is at most this many pixels.
        cache: ``"shared"`` (the process-wide :func:`shared_cache`, default), ``"private"`` (a
            cache of this perceiver's own, sized by ``cache_size`` and ``frame_cache_mb``), or a
            :class:`PerceptionCache` to share explicitly.
        cache_size: perception results kept by a private cache.
        frame_cache_mb: megabytes of decoded frames kept by a private cache.
        retries: extra attempts after a backend call raises (decoding is not retried).
        retry_delay: seconds to wait before each retry.
        max_open_files: containers kept open at once (LRU); all are closed by :meth:`close`.
        seek_gap: sampled times further apart than this many seconds are decoded after separate
            seeks instead of decoding the frames in between.
        thumbnails: longest side in pixels of a PNG thumbnail of every decoded frame, kept for
            episode viewers (0, the default: none, so results files stay small).

    ``stats`` holds :class:`PerceiverStats` (calls, cache hits, decode and perception seconds).
    After each ``observe``, ``last_frames`` holds ``{"decoded_times": [...]}`` (the times of the
    frames actually decoded, which the env copies into ``info["looks"]``) and, with
    ``thumbnails``, ``"thumbnails"`` (PNG data URIs); ``None`` when the call failed.
    """

    name = "video"

    def __init__(self, visual: Any = "offline", audio: Any = "offline",
                 visual_options: dict[str, Any] | None = None, audio_options: dict[str, Any] | None = None,
                 max_side: int = 640, cache: str | PerceptionCache = "shared", cache_size: int = 1024,
                 frame_cache_mb: float = 96.0, retries: int = 1, retry_delay: float = 0.0,
                 max_open_files: int = 8, seek_gap: float = 2.0, thumbnails: int = 0):
        self.thumbnails = int(thumbnails)
        self.last_frames: dict[str, list] | None = None
        self.visual = visual_backend(visual, visual_options)
        self.audio = audio_backend(audio, audio_options)
        self.max_side = int(max_side)
        if isinstance(cache, PerceptionCache):
            self.cache = cache
        elif cache == "shared":
            self.cache = shared_cache()
        elif cache == "private":
            self.cache = PerceptionCache(cache_size, frame_cache_mb)
        else:
            raise ValueError(f"cache must be 'shared', 'private' or a PerceptionCache, got {cache!r}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.retries = int(retries)
        self.retry_delay = float(retry_delay)
        self.stats = PerceiverStats()
        self._readers = ReaderCache(max_open_files, max_side=self.max_side, seek_gap=seek_gap)
        # Backends without a cache_key are only trusted to agree with themselves.
        tag = uuid.uuid4().hex[:12]
        self._visual_key = getattr(self.visual, "cache_key", None) or f"{self.visual.name}#{tag}"
        self._audio_key = getattr(self.audio, "cache_key", None) or f"{self.audio.name}#{tag}"
        self._task: Task | None = None
        self._files: dict[int, tuple[Path, str]] = {}
        self._offsets: dict[int, float] = {}  # clip begin per video: agent times + offset = file times

    # -- reset --------------------------------------------------------------------------------
    def load_task(self, task: Task, suite: Suite) -> None:
        """Check every video file of ``task``; raise :class:`MediaError` naming the bad one."""
        files: dict[int, tuple[Path, str]] = {}
        for v in task.videos:
            where = f"task {task.id!r}, video {v.index}"
            if not v.path:
                raise MediaError(f"<{where}>", "has no file path; the real env needs a file for every video")
            try:
                path = suite.resolve_path(v.path)
            except ValueError as err:
                raise MediaError(v.path, f"{err} ({where})") from None
            if path.is_dir():  # an image sequence: its frame rate is the task's
                self._readers.sequence_fps[str(path)] = v.fps
            try:
                info, end = self._validate(path)
            except MediaError as err:
                raise MediaError(path, f"{err.problem} ({where})") from None
            begin = v.clip[0] if v.clip else 0.0
            if begin + v.duration > end + DURATION_TOLERANCE + (1.0 / info.fps if info.fps else 0.04):
                raise MediaError(path, f"the task declares {begin + v.duration:g} s but frames decode only up to "
                                       f"{end:.2f} s (a truncated or shorter file) ({where})")
            files[v.index] = (path, v.path)
        self._task, self._files = task, files
        self._offsets = {v.index: v.clip[0] for v in task.videos if v.clip}

    def _validate(self, path: Path) -> tuple[MediaInfo, float]:
        if not path.is_dir():
            check_file(path)
        key = file_key(path) + ((self._readers.sequence_fps.get(str(path)),) if path.is_dir() else ())
        if key in valid_files:
            return valid_files[key]
        reader = self._readers.get(path)
        try:
            reader.validate()
            end = reader.decodable_end()
        except MediaError:
            self._readers.drop(path)
            raise
        if len(valid_files) >= 100_000:
            valid_files.clear()
        valid_files[key] = (reader.info, end)
        return valid_files[key]

    def media_info(self, video: int) -> MediaInfo:
        """What the current task's video ``video`` holds (duration, size, fps, audio)."""
        path, _ = self._file(self._task, video)
        return self._readers.get(path).info

    # -- tools --------------------------------------------------------------------------------
    #: ``observe`` takes ``resize``: decoded frames are scaled by it before the visual backend
    #: sees them (EVA's frame_select ``resize``), so small text really becomes unreadable.
    supports_resize = True

    def observe(self, task: Task, video: int, times: np.ndarray, focus: str,
                rng: np.random.Generator, resize: float = 1.0) -> list[Evidence]:
        self.stats.observe_calls += 1
        self.last_frames = None
        path, shown = self._file(task, video)
        off = self._offsets.get(video, 0.0)
        times_list = [float(t) + off for t in np.asarray(times, dtype=np.float64).ravel()]
        fkey = self._key(path, shown)
        focus_key = focus if getattr(self.visual, "uses_focus", True) else None
        rkey = ("observe", fkey, tuple(round(t, 4) for t in times_list), self._visual_key, focus_key, self.max_side,
                float(resize), self.thumbnails, off)
        cached = self.cache.results.get(rkey)
        if cached is not None:
            self.stats.cache_hits += 1
            merged, self.last_frames = cached
            return _copies(merged, video, -off)
        frames, decoded_times = self._frames(path, shown, fkey, times_list)
        if resize != 1.0:
            frames = [scale_frame(f, resize) for f in frames]
        details: dict[str, list] = {"decoded_times": [t - off for t in decoded_times]}
        if self.thumbnails > 0:  # of the frames the visual backend sees
            details["thumbnails"] = [png_thumbnail(f, self.thumbnails) for f in frames]
        per_frame = self._call(self.visual, "describe", frames, times_list, focus)
        if not isinstance(per_frame, (list, tuple)) or len(per_frame) != len(frames):
            self.stats.failures += 1
            raise PerceptionError(f"the {self.visual.name} visual backend returned "
                                  f"{_count(per_frame)} results for {len(frames)} frames")
        merged = merge_frames([_checked(r, self.visual.name) for r in per_frame], times_list)
        self.cache.results.put(rkey, (merged, details))
        self.last_frames = details
        return _copies(merged, video, -off)

    def listen(self, task: Task, video: int, start: float, end: float, focus: str,
               rng: np.random.Generator) -> list[Evidence]:
        self.stats.listen_calls += 1
        path, shown = self._file(task, video)
        off = self._offsets.get(video, 0.0)
        start, end = float(start) + off, float(end) + off
        fkey = self._key(path, shown)
        focus_key = focus if getattr(self.audio, "uses_focus", True) else None
        rkey = ("listen", fkey, round(float(start), 3), round(float(end), 3), self._audio_key, focus_key)
        cached = self.cache.results.get(rkey)
        if cached is not None:
            self.stats.cache_hits += 1
            return _copies(cached, video, -off)
        t0 = time.perf_counter()
        try:
            reader = self._readers.get(path)
            if not reader.has_audio:
                raise PerceptionError(f"video {video} ({shown}) has no audio track")
            samples = reader.audio(start, end)
        except MediaError as err:
            raise PerceptionError(f"could not read the audio of video {video} ({shown}): {err.problem}") from None
        finally:
            self.stats.decode_seconds += time.perf_counter() - t0
        records: list[Evidence] = []
        if samples.size:
            out = self._call(self.audio, "transcribe", samples, float(start), focus)
            for ev in _checked(out, self.audio.name):
                s, e = max(float(start), ev.start), min(float(end), ev.end)
                records.append(Evidence(0, s, max(s, e), ev.kind, ev.content, dict(ev.attributes), ev.confidence))
        self.cache.results.put(rkey, records)
        return _copies(records, video, -off)

    # -- helpers ------------------------------------------------------------------------------
    def _file(self, task: Task | None, video: int) -> tuple[Path, str]:
        if task is None or task is not self._task:
            raise PerceptionError("the perceiver has not loaded this task (call load_task at reset)")
        try:
            return self._files[video]
        except KeyError:
            raise PerceptionError(f"there is no video {video}") from None

    def _key(self, path: Path, shown: str) -> tuple:
        try:
            if path.is_dir():  # frames of a folder depend on the fps it is read at
                return file_key(path) + (self._readers.sequence_fps.get(str(path)),)
            return file_key(path)
        except OSError as err:
            raise PerceptionError(f"the file of {shown} cannot be read any more ({err.strerror})") from None

    def _frames(self, path: Path, shown: str, fkey: tuple, times: list[float]) -> tuple[list[np.ndarray], list[float]]:
        """The frames nearest to ``times`` and the times they were decoded at."""
        keys = [(fkey, round(t, 4), self.max_side) for t in times]
        found = {k: self.cache.frames.get(k) for k in dict.fromkeys(keys)}
        missing = [k for k, v in found.items() if v is None]
        self.stats.frame_cache_hits += len(found) - len(missing)
        if missing:
            t0 = time.perf_counter()
            try:
                reader = self._readers.get(path)
                decoded, decoded_times = reader.frames_and_times_at([k[1] for k in missing])
            except MediaError as err:
                raise PerceptionError(f"could not decode {shown}: {err.problem}") from None
            finally:
                self.stats.decode_seconds += time.perf_counter() - t0
            if reader.past_end_times:  # the file ends before the task says: never show stale frames
                self.stats.past_end_reads += len(reader.past_end_times)
                raise PerceptionError(f"{shown} has no frame at {min(reader.past_end_times):.2f} s: "
                                      f"its frames end near {reader.decodable_end():.2f} s")
            self.stats.frames_decoded += len(missing)
            for k, frame, t in zip(missing, decoded, decoded_times):
                frame.flags.writeable = False  # shared through the cache: nobody may edit it
                found[k] = (frame, t)
                self.cache.frames.put(k, found[k])
        return [found[k][0] for k in keys], [found[k][1] for k in keys]

    def _call(self, backend: Any, method: str, *args: Any) -> Any:
        fn = getattr(backend, method)
        attempts = 1 + self.retries
        t0 = time.perf_counter()
        try:
            for attempt in range(attempts):
                try:
                    return fn(*args)
                except BackendLoadError:
                    raise  # a configuration error: fail the run, not one observation
                except Exception as err:  # any other backend failure goes back to the agent as text
                    last = err
                    if attempt + 1 < attempts:
                        self.stats.retries += 1
                        if self.retry_delay:
                            time.sleep(self.retry_delay)
            self.stats.failures += 1
            detail = str(last) or type(last).__name__
            raise PerceptionError(f"the {backend.name} backend failed after {attempts} attempt(s): {detail}") from last
        finally:
            self.stats.perception_seconds += time.perf_counter() - t0

    def close(self) -> None:
        """Close every open container (the caches stay: they may be shared)."""
        self._readers.close()


def png_thumbnail(frame: np.ndarray, max_side: int) -> str:
    """A small PNG of an RGB frame as a ``data:`` URI (longest side ``max_side`` pixels)."""
    import base64
    import io

    from PIL import Image

    image = Image.fromarray(np.asarray(frame))
    image.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _checked(records: Any, backend: str) -> list[Evidence]:
    if not isinstance(records, (list, tuple)):
        raise PerceptionError(f"the {backend} backend returned {type(records).__name__}, not a list of Evidence")
    for r in records:
        if not isinstance(r, Evidence) or r.kind not in EVIDENCE_KINDS or not isinstance(r.content, str):
            raise PerceptionError(f"the {backend} backend returned an invalid record: {r!r}")
    return list(records)


def _copies(records: list[Evidence], video: int, shift: float = 0.0) -> list[Evidence]:
    """Copies for one video; ``shift`` turns file times into clip times."""
    return [Evidence(video, ev.start + shift, ev.end + shift, ev.kind, ev.content, dict(ev.attributes), ev.confidence)
            for ev in records]


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, (list, tuple)) else type(value).__name__


def scale_frame(frame: np.ndarray, factor: float) -> np.ndarray:
    """``frame`` (H x W x 3 uint8) with both sides scaled by ``factor`` (bicubic, as EVA's tool)."""
    from PIL import Image

    h, w = frame.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(np.ascontiguousarray(frame)).resize(size, Image.BICUBIC))
