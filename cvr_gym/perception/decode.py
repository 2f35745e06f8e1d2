"""Reading frames and audio windows from video files with PyAV, never decoding whole files.

Frames: the requested times are sorted and split into groups whose neighbours are at most
``seek_gap`` seconds apart. For each group the reader seeks to the keyframe at or before the
first time, decodes forward, keeps for each requested time the nearest decoded frame (by
presentation time, so variable frame rate files work) and stops once past the group's last time.
A sparse scan of a long window therefore costs a few short decodes, not the whole window. Times
past the last frame get the last frame, and the reader lists them in ``past_end_times`` so a
caller can report them (a truncated file must not pass silently for a long one);
:meth:`MediaReader.decodable_end` finds where the decodable frames really end. Frames larger than ``max_side`` are scaled down (keeping
the aspect ratio) by swscale while being converted to RGB.

Audio: the reader seeks to the window, decodes the audio frames that overlap it, mixes them to
mono and resamples to 16 kHz with :class:`av.AudioResampler`, then trims to the window: a
``float32`` array that starts exactly at the window start (shorter if the file ends earlier).

Times are media times: seconds from the container's start time, shared by video and audio.
Every failure is a :class:`MediaError` that names the file.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import av
import numpy as np

AUDIO_RATE = 16_000
_SEEK_TOLERANCE = 1e-3  # seconds: a seek landing this close after the target is good enough
_BACKOFFS = (1.0, 4.0, 16.0)  # seconds to seek further back when a seek lands late


class MediaError(RuntimeError):
    """A media file is missing, empty, unreadable or lacks what was asked of it.

    ``path`` is the file and ``problem`` what is wrong; the message contains both.
    """

    def __init__(self, path: str | os.PathLike, problem: str | None = None):
        if problem is None:  # ``MediaError(str(err))``: how workers and callers rebuild one
            message = str(path)
            path, sep, problem = message.partition(": ")
            if not sep:
                path, problem = "", message
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)

    def __reduce__(self):  # async vector envs send exceptions across processes
        return (type(self), (self.path, self.problem))


@dataclass(frozen=True)
class MediaInfo:
    """What a file holds: duration (s), frame size, average frame rate, whether it has audio."""

    path: str
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool


def file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    """Identity of a file's current content for cache keys: (path, mtime in ns, size)."""
    st = os.stat(path)
    return (str(path), st.st_mtime_ns, st.st_size)


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """The frame size after scaling so the longest side is at most ``max_side`` (never up)."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_file(path: str | os.PathLike) -> None:
    """Raise :class:`MediaError` if ``path`` is missing, not a regular file or empty."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(p, "no such file") from None
    except OSError as err:  # e.g. a name too long for the file system
        raise MediaError(p, f"cannot be read ({err.strerror or err})") from None
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(p, "not a regular file")
    if st.st_size == 0:
        raise MediaError(p, "the file is empty (0 bytes)")


class MediaReader:
    """One open container answering frame and audio-window requests.

    Arguments:
        path: the video file.
        max_side: frames are scaled down so their longest side is at most this (``None``: never).
        seek_gap: requested times further apart than this (seconds) get separate seeks.

    Not thread-safe: give each thread (or each env) its own reader.
    """

    def __init__(self, path: str | os.PathLike, max_side: int | None = 640, seek_gap: float = 2.0):
        self.path = Path(path)
        self.max_side = max_side
        self.seek_gap = float(seek_gap)
        self.frames_decoded = 0  # video frames decoded so far: the work done, whatever the clock says
        self.past_end_times: list[float] = []  # times of the last frames_at call past the last frame
        self._decodable_end: float | None = None
        check_file(self.path)
        try:
            self._container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, ValueError) as err:
            raise MediaError(self.path, f"cannot be opened as a media file ({err})") from None
        if not self._container.streams.video:
            self._container.close()
            raise MediaError(self.path, "has no video stream")
        self._video = self._container.streams.video[0]
        self._audio = self._container.streams.audio[0] if self._container.streams.audio else None
        start = self._container.start_time
        self._offset = start / av.time_base if start is not None else 0.0
        self.info = self._probe()

    # -- metadata -----------------------------------------------------------------------------
    def _probe(self) -> MediaInfo:
        v = self._video
        fps = float(v.average_rate) if v.average_rate else (float(v.guessed_rate) if v.guessed_rate else 0.0)
        if self._container.duration is not None:
            duration = self._container.duration / av.time_base
        elif v.duration is not None and v.time_base is not None:
            duration = float(v.duration * v.time_base)
        else:
            duration = float(v.frames / fps) if v.frames and fps else 0.0
        return MediaInfo(str(self.path), duration, v.codec_context.width, v.codec_context.height,
                         fps, self._audio is not None)

    @property
    def has_audio(self) -> bool:
        return self._audio is not None

    def validate(self) -> None:
        """Decode the first frame: catches files whose header parses but whose data does not."""
        if self.info.width <= 0 or self.info.height <= 0:
            raise MediaError(self.path, "the video stream has no frame size")
        self.frames_at([0.0])

    def decodable_end(self) -> float:
        """Seconds up to which frames really decode: the last decodable frame's time plus one frame.

        A file cut short after an intact header still declares its full duration; this decodes
        the file's tail (seeking further back until a frame decodes) to find where it ends.
        """
        if self._decodable_end is None:
            last = None
            for back in (*_BACKOFFS, None):
                target = 0.0 if back is None else max(0.0, self.info.duration - back)
                last = self._last_frame_time(target)
                if last is not None or target == 0.0:
                    break
            if last is None:
                raise MediaError(self.path, "no video frame could be decoded")
            self._decodable_end = last + self._frame_step()
        return self._decodable_end

    def _last_frame_time(self, target: float) -> float | None:
        self._seek(target, self._video)
        last = None
        try:
            for frame in self._container.decode(self._video):
                self.frames_decoded += 1
                if frame.time is not None:
                    ft = frame.time - self._offset
                    last = ft if last is None else max(last, ft)
        except av.FFmpegError:
            pass  # a truncated file: decoding stops where its data does
        return last

    def _frame_step(self) -> float:
        return 1.0 / self.info.fps if self.info.fps else 0.04

    # -- frames -------------------------------------------------------------------------------
    def frames_at(self, times: Sequence[float]) -> list[np.ndarray]:
        """RGB ``uint8`` frames (H x W x 3) nearest to each time, in the order of ``times``.

        Times after the last decodable frame (by more than one frame) get the last frame and are
        listed in :attr:`past_end_times`.
        """
        return self.frames_and_times_at(times)[0]

    def frames_and_times_at(self, times: Sequence[float]) -> tuple[list[np.ndarray], list[float]]:
        """:meth:`frames_at` plus each decoded frame's own time (seconds from the video's start)."""
        self.past_end_times = []
        times = [max(0.0, float(t)) for t in times]
        if not times:
            return [], []
        order = sorted(range(len(times)), key=times.__getitem__)
        picked: list[av.VideoFrame | None] = [None] * len(times)
        group = [order[0]]
        for i in order[1:]:
            if times[i] - times[group[-1]] > self.seek_gap:
                self._pick_group(group, times, picked)
                group = []
            group.append(i)
        self._pick_group(group, times, picked)
        arrays: dict[int, np.ndarray] = {}  # one conversion per distinct frame
        for f in picked:
            if id(f) not in arrays:
                arrays[id(f)] = self._to_rgb(f)
        decoded = [t if f.time is None else max(0.0, float(f.time) - self._offset) for f, t in zip(picked, times)]
        return [arrays[id(f)] for f in picked], decoded

    def _pick_group(self, group: list[int], times: list[float], picked: list) -> None:
        ts = [times[i] for i in group]
        frames = None
        for back in (0.0, *_BACKOFFS):
            target = max(0.0, ts[0] - back)
            frames = self._scan(target, ts, strict=target > 0)
            if frames is not None or target == 0.0:
                break
        if frames is None:
            frames = self._scan(0.0, ts, strict=False)
        if frames is None:
            raise MediaError(self.path, "no video frame could be decoded")
        for i, f in zip(group, frames):
            picked[i] = f

    def _scan(self, target: float, ts: list[float], strict: bool) -> list[av.VideoFrame] | None:
        """Seek to ``target``, decode forward and pick the nearest frame for each sorted time.

        Returns ``None`` if nothing was decoded, or (when ``strict``) if the seek landed after
        the first time, so the caller can seek further back.
        """
        self._seek(target, self._video)
        picks: list[av.VideoFrame] = []
        prev: tuple[float, av.VideoFrame] | None = None
        step = self._frame_step()
        try:
            for frame in self._container.decode(self._video):
                self.frames_decoded += 1
                ft = frame.time
                ft = (ft - self._offset) if ft is not None else (prev[0] + step if prev else target)
                if prev is None and strict and ft > ts[0] + _SEEK_TOLERANCE:
                    return None
                while len(picks) < len(ts) and ft >= ts[len(picks)]:
                    t = ts[len(picks)]
                    picks.append(prev[1] if prev is not None and t - prev[0] <= ft - t else frame)
                if len(picks) == len(ts):
                    return picks
                prev = (ft, frame)
        except av.FFmpegError as err:
            raise MediaError(self.path, f"video decoding failed near {target:.2f} s ({err})") from None
        if prev is None:
            return None
        rest = ts[len(picks):]
        picks.extend(prev[1] for _ in rest)  # past the end: last frame, and say so
        self.past_end_times.extend(t for t in rest if t > prev[0] + step + _SEEK_TOLERANCE)
        return picks

    def _to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        w, h = scaled_size(frame.width, frame.height, self.max_side)
        try:
            if (w, h) == (frame.width, frame.height):
                return frame.to_ndarray(format="rgb24")
            return frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()
        except (av.FFmpegError, ValueError) as err:
            raise MediaError(self.path, f"frame conversion failed ({err})") from None

    # -- audio --------------------------------------------------------------------------------
    def audio(self, start: float, end: float, rate: int = AUDIO_RATE) -> np.ndarray:
        """Mono ``float32`` samples at ``rate`` Hz from ``start`` to ``end`` seconds.

        The array starts at ``start``; it is shorter than the window if the file ends earlier,
        and empty if the window starts after the end.
        """
        if self._audio is None:
            raise MediaError(self.path, "has no audio track")
        start = max(0.0, float(start))
        end = max(start, float(end))
        result = None
        for back in (0.0, *_BACKOFFS):
            target = max(0.0, start - back)
            result = self._audio_scan(target, start, end, rate, strict=target > 0)
            if result is not None or target == 0.0:
                break
        if result is None:
            result = self._audio_scan(0.0, start, end, rate, strict=False)
        if result is None:
            return np.zeros(0, dtype=np.float32)
        first, samples = result
        i0 = int(round((start - first) * rate))
        i1 = int(round((end - first) * rate))
        if i0 < 0:  # the stream begins after ``start``: silence until it does
            samples = np.concatenate([np.zeros(-i0, np.float32), samples])
            i1 -= i0
            i0 = 0
        return np.ascontiguousarray(samples[i0:i1], dtype=np.float32)

    def _audio_scan(self, target: float, start: float, end: float, rate: int,
                    strict: bool) -> tuple[float, np.ndarray] | None:
        self._seek(target, self._audio)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        first: float | None = None
        try:
            for frame in self._container.decode(self._audio):
                if frame.time is None or not frame.samples:
                    continue
                ft = frame.time - self._offset
                if ft + frame.samples / frame.sample_rate <= start:
                    continue
                if first is None:
                    if strict and ft > start + _SEEK_TOLERANCE:
                        return None
                    first = ft
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
                if ft >= end:
                    break
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
        except av.FFmpegError as err:
            raise MediaError(self.path, f"audio decoding failed near {start:.2f} s ({err})") from None
        if first is None:
            return None
        return first, (np.concatenate(chunks) if chunks else np.zeros(0, np.float32))

    # -- plumbing -----------------------------------------------------------------------------
    def _seek(self, t: float, stream: av.stream.Stream) -> None:
        try:
            self._container.seek(int((t + self._offset) / stream.time_base), stream=stream, backward=True)
        except av.FFmpegError as err:
            # Some files refuse to seek; reopening restarts reading from the beginning.
            if t > 0:
                raise MediaError(self.path, f"seeking to {t:.2f} s failed ({err})") from None
            self._reopen()

    def _reopen(self) -> None:
        self._container.close()
        self._container = av.open(str(self.path), mode="r")
        self._video = self._container.streams.video[0]
        self._audio = self._container.streams.audio[0] if self._container.streams.audio else None

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "MediaReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def probe(path: str | os.PathLike, validate: bool = True) -> MediaInfo:
    """Open ``path``, check it holds decodable video and return its :class:`MediaInfo`."""
    with MediaReader(path) as reader:
        if validate:
            reader.validate()
        return reader.info


class ReaderCache:
    """A small LRU of open :class:`MediaReader` objects, one per file; evicted readers are closed.

    A reader is reopened when its file changes on disk (new mtime or size).
    """

    def __init__(self, max_open: int = 8, max_side: int | None = 640, seek_gap: float = 2.0):
        self.max_open = max(1, int(max_open))
        self.max_side = max_side
        self.seek_gap = seek_gap
        self._readers: OrderedDict[str, tuple[tuple, MediaReader]] = OrderedDict()
        self._lock = threading.Lock()
        #: frame rate of each image-sequence folder (folders carry no timing; the task says it)
        self.sequence_fps: dict[str, float] = {}

    def get(self, path: str | os.PathLike) -> MediaReader:
        folder = Path(path).is_dir()
        if not folder:
            check_file(path)
        key = file_key(path) + ((self.sequence_fps.get(str(path)),) if folder else ())
        with self._lock:
            hit = self._readers.get(key[0])
            if hit is not None and hit[0] == key:
                self._readers.move_to_end(key[0])
                return hit[1]
            if hit is not None:
                hit[1].close()
                del self._readers[key[0]]
            if folder:  # a frame folder (CrossVid's drone views)
                from cvr_gym.perception.image_sequence import ImageSequenceReader

                reader = ImageSequenceReader(path, fps=self.sequence_fps.get(str(path), 30.0), max_side=self.max_side)
            else:
                reader = MediaReader(path, max_side=self.max_side, seek_gap=self.seek_gap)
            self._readers[key[0]] = (key, reader)
            while len(self._readers) > self.max_open:
                _, (_, old) = self._readers.popitem(last=False)
                old.close()
            return reader

    def drop(self, path: str | os.PathLike) -> None:
        """Close and forget the reader of ``path`` (e.g. after it failed validation)."""
        with self._lock:
            hit = self._readers.pop(str(path), None)
        if hit is not None:
            hit[1].close()

    def close(self) -> None:
        with self._lock:
            for _, reader in self._readers.values():
                reader.close()
            self._readers.clear()

    def __len__(self) -> int:
        return len(self._readers)
