"""Finding source media inside the data root and reading durations from them.

Task files name videos relative to the suite's *data root* (the folder of the JSONL file, see
:func:`cvr_gym.core.suites.load_suite`). A path from a source record is joined to the folder
the source says it is relative to (CrossVid's ``videos/`` or ``uav/``), then must resolve inside
the data root (:func:`cvr_gym.core.suites.resolve_inside`); anything else is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cvr_gym.core.suites import resolve_inside
from cvr_gym.importers.common import RecordError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


@dataclass(frozen=True)
class MediaInfo:
    """What a probe found: duration in seconds, frame rate, whether there is an audio track."""

    duration: float
    fps: float
    has_audio: bool


@dataclass(frozen=True)
class Located:
    """A source path placed in the data root: ``relative`` (posix, for the task file) and ``absolute``."""

    relative: str
    absolute: Path

    @property
    def is_file(self) -> bool:
        """Whether a file is there."""
        return self.absolute.is_file()

    @property
    def is_dir(self) -> bool:
        """Whether a folder is there (CrossVid's UAV views are frame folders)."""
        return self.absolute.is_dir()


class MediaLocator:
    """Places source paths inside ``data_root`` and probes media files (results are cached)."""

    def __init__(self, data_root: str | Path):
        # As written, not resolved: a folder linked into the root (videos -> /big/disk) is inside it.
        self.root = Path(os.path.normpath(os.path.abspath(data_root)))
        self._probes: dict[Path, MediaInfo | str] = {}

    def inside(self, folder: str | Path) -> bool:
        """Whether ``folder`` is the data root or below it (as written; symlinks are not followed)."""
        path = Path(os.path.normpath(os.path.abspath(folder)))
        return path == self.root or self.root in path.parents

    def locate(self, base: str | Path, name: str) -> Located:
        """``base/name`` relative to the data root, or a :class:`RecordError` if it leaves it."""
        if not isinstance(name, str) or not name.strip():
            raise RecordError(f"expected a file name, got {name!r}", "bad-path")
        joined = Path(base) / name  # an absolute ``name`` replaces ``base`` and is checked below
        relative = os.path.relpath(os.path.abspath(joined), self.root)
        try:
            absolute = resolve_inside(self.root, relative)
        except ValueError:
            raise RecordError(f"path {name!r} leaves the data root {self.root}; refused", "path-outside-root") from None
        return Located(absolute.relative_to(self.root).as_posix() or ".", absolute)

    def probe(self, path: Path) -> MediaInfo:
        """Duration, fps and audio of a media file read with PyAV; :class:`RecordError` if unreadable."""
        path = path.resolve()
        if path not in self._probes:
            try:
                self._probes[path] = probe_video(path)
            except Exception as err:  # PyAV raises many error types for broken files
                self._probes[path] = f"{type(err).__name__}: {err}"
        found = self._probes[path]
        if isinstance(found, str):
            raise RecordError(f"cannot read {path.name}: {found}", "unreadable-video")
        return found


def probe_video(path: str | Path) -> MediaInfo:
    """Duration, fps and audio presence, read the way the real env reads them.

    Uses :func:`cvr_gym.perception.decode.probe` (PyAV; checks the file decodes), so imported
    durations are the ones ``CVRReal-v0`` will see.
    """
    from cvr_gym.perception.decode import probe

    info = probe(path)
    if not info.duration or info.duration <= 0:
        raise ValueError("no duration in the file")
    return MediaInfo(float(info.duration), float(info.fps) if info.fps > 0 else 30.0, info.has_audio)


def count_images(folder: Path) -> int:
    """Number of image files in a frame folder (CrossVid's UAV views are frame folders)."""
    return sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
