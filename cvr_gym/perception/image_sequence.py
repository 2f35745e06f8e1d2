"""Image-sequence videos: a folder of frames with a frame rate, read like a video file.

CrossVid's drone views (MOC, MSR) are folders of numbered JPEGs (``uav/frames/{1,2}/{vid}-{k}``),
and AgentCVR's executor reads them as ``image_folder`` contexts. Frame ``i`` (in natural name
order) is shown from ``i / fps`` seconds; the fps comes from the task's ``VideoSpec.fps``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cvr_gym.perception.decode import MediaError, MediaInfo, scaled_size

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def is_image_sequence(path: str | os.PathLike) -> bool:
    return Path(path).is_dir()


class ImageSequenceReader:
    """The :class:`~cvr_gym.perception.decode.MediaReader` interface over a frame folder (no audio)."""

    def __init__(self, path: str | os.PathLike, fps: float = 30.0, max_side: int | None = 640):
        self.path = Path(path)
        if fps <= 0:
            raise MediaError(self.path, f"an image sequence needs a positive fps, got {fps}")
        self.fps = float(fps)
        self.max_side = max_side
        self.frames_decoded = 0
        self.past_end_times: list[float] = []
        try:
            names = [p.name for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        except OSError as err:
            raise MediaError(self.path, f"cannot list the frame folder ({err.strerror or err})") from None
        if not names:
            raise MediaError(self.path, "the frame folder holds no images (.jpg, .png, ...)")
        self.files = [self.path / n for n in sorted(names, key=_natural)]
        width, height = self._open(0).size
        self.info = MediaInfo(str(self.path), len(self.files) / self.fps, width, height, self.fps, False)

    has_audio = False

    def _open(self, index: int):
        from PIL import Image, UnidentifiedImageError

        try:
            image = Image.open(self.files[index])
            image.load()
        except (OSError, UnidentifiedImageError) as err:
            raise MediaError(self.files[index], f"cannot be read as an image ({err})") from None
        return image

    def validate(self) -> None:
        if self.info.width <= 0 or self.info.height <= 0:
            raise MediaError(self.path, "the first frame has no size")

    def decodable_end(self) -> float:
        return self.info.duration

    def frames_at(self, times: Sequence[float]) -> list[np.ndarray]:
        return self.frames_and_times_at(times)[0]

    def frames_and_times_at(self, times: Sequence[float]) -> tuple[list[np.ndarray], list[float]]:
        """The frame shown at each time (frame ``floor(t * fps)``) and its own time."""
        from PIL import Image

        n = len(self.files)
        self.past_end_times = [t for t in times if t >= n / self.fps + 1 / self.fps]
        frames, stamps, cache = [], [], {}
        for t in times:
            index = min(n - 1, max(0, int(float(t) * self.fps + 1e-6)))
            if index not in cache:
                image = self._open(index).convert("RGB")
                size = scaled_size(image.width, image.height, self.max_side)
                if size != image.size:
                    image = image.resize(size, Image.BILINEAR)
                cache[index] = np.asarray(image)
                self.frames_decoded += 1
            frames.append(cache[index])
            stamps.append(index / self.fps)
        return frames, stamps

    def audio(self, start: float, end: float, rate: int = 16_000) -> np.ndarray:
        raise MediaError(self.path, "an image sequence has no audio")

    def close(self) -> None:
        pass

    def __enter__(self) -> "ImageSequenceReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
