"""The offline visual backend: OCR plus pixel descriptors, with no downloads.

Per frame it reports three kinds of evidence, in a fixed vocabulary that the corpus renderer's
scripts use too, so the simulator and the real env describe a rendered scene with the same words:

``text``
    One record per line that ``rapidocr`` reads (its wheel ships the detection and recognition
    models). ``content`` is the line as read, ``confidence`` the OCR score.
``object``
    Connected blobs of one saturated colour, counted per colour: ``"1 red object"``,
    ``"3 red objects"``, with ``attributes={"colour": "red", "count": 3}``. One record per colour
    present. Blobs smaller than ``min_object_frac`` of the frame, larger than
    ``max_object_frac``, filling less than ``min_fill`` of their bounding box (strokes, rings),
    of the background's colour, or on text that OCR found, are not counted.
``visual``
    ``"<colour> background"`` when one colour class covers at least ``min_background_frac`` of
    the frame, and ``"scene change"`` on a frame that differs strongly (mean absolute difference
    of 32 x 32 thumbnails above ``scene_threshold``, in 0-255 units) from the previous frame of
    the same call.

Colour names. Saturated colours (HSV saturation >= 0.4 and value >= 0.35) are named by hue:
red (< 15 or >= 345 degrees), orange (15-40), yellow (40-70), green (70-165), blue (165-260),
purple (260-295), pink (295-345). Other pixels are black (value < 0.25), white (value >= 0.75
and saturation < 0.2) or grey; these three only name backgrounds, never objects. A renderer
should paint with :data:`CANONICAL_RGB`, whose colours sit in the middle of their hue ranges.
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np

from cvr_gym.core.evidence import Evidence

#: Colours that objects are counted in, with the RGB a renderer should draw them with.
CANONICAL_RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (255, 140, 0),
    "yellow": (250, 215, 0),
    "green": (40, 170, 60),
    "blue": (30, 90, 220),
    "purple": (140, 60, 200),
    "pink": (240, 80, 170),
}
#: Backgrounds may also be these.
ACHROMATIC_RGB: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128),
}
OBJECT_COLOURS: tuple[str, ...] = tuple(CANONICAL_RGB)
BACKGROUND_COLOURS: tuple[str, ...] = OBJECT_COLOURS + tuple(ACHROMATIC_RGB)

# Hue ranges in degrees [lo, hi); red wraps around 0.
_HUES = (("red", 0, 15), ("orange", 15, 40), ("yellow", 40, 70), ("green", 70, 165),
         ("blue", 165, 260), ("purple", 260, 295), ("pink", 295, 345), ("red", 345, 361))
_SAT_MIN, _VAL_MIN = 0.4, 0.35
# Class ids in label maps: 1..7 object colours, then white, black, grey.
_CLASS_NAMES = BACKGROUND_COLOURS
_WHITE, _BLACK, _GREY = (BACKGROUND_COLOURS.index(c) + 1 for c in ("white", "black", "grey"))

# One OCR engine per process and settings: loading the ONNX sessions costs about a second.
_OCR_ENGINES: dict[tuple, Any] = {}
_OCR_LOCK = threading.Lock()


def _ocr_engine(threads: int, text_score: float, det_side: int) -> Any:
    key = (threads, text_score, det_side)
    with _OCR_LOCK:
        engine = _OCR_ENGINES.get(key)
        if engine is None:
            from rapidocr import RapidOCR  # heavy import, only when OCR is used

            engine = RapidOCR(params={
                "Global.log_level": "error",
                "Global.text_score": float(text_score),
                "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
                # The default scales the short side *up* to 736 px: slower, and no more accurate
                # on rendered text than detecting at the frame's own size.
                "Det.limit_type": "max",
                "Det.limit_side_len": int(det_side),
            })
            _OCR_ENGINES[key] = engine
        return engine


def colour_classes(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel colour class ids (see ``_CLASS_NAMES``, 1-based) of an RGB ``uint8`` image."""
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV_FULL)  # hue 0-255 for 0-360
    hue = hsv[..., 0].astype(np.float32) * (360.0 / 256.0)
    sat = hsv[..., 1].astype(np.float32) / 255.0
    val = hsv[..., 2].astype(np.float32) / 255.0
    out = np.full(rgb.shape[:2], _GREY, dtype=np.uint8)
    out[val < 0.25] = _BLACK
    out[(val >= 0.75) & (sat < 0.2)] = _WHITE
    saturated = (sat >= _SAT_MIN) & (val >= _VAL_MIN)
    for name, lo, hi in _HUES:
        out[saturated & (hue >= lo) & (hue < hi)] = OBJECT_COLOURS.index(name) + 1
    return out


def _thumb(rgb: np.ndarray, size: int = 32) -> np.ndarray:
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA).astype(np.int16)


class OfflineVisualBackend:
    """OCR (``rapidocr``) plus colour-blob, background and scene-change descriptors.

    Arguments:
        ocr: run OCR (``text`` records).
        objects: count coloured blobs (``object`` records).
        background: name the dominant colour (``visual`` records).
        scene_change: report scene changes between sampled frames (``visual`` records).
        min_text_score: OCR lines scoring below this are dropped.
        ocr_threads: onnxruntime threads for OCR.
        ocr_det_side: text detection runs on the frame scaled down to at most this many pixels
            on its longest side.
        min_object_frac, max_object_frac: blob area bounds as shares of the frame.
        min_fill: least share of its bounding box a blob must fill.
        min_background_frac: least share of the frame the dominant colour must cover.
        scene_threshold: mean absolute thumbnail difference (0-255) that counts as a scene change.

    Output does not depend on the focus prompt (``uses_focus = False``), so callers may cache
    it regardless of focus. See the module docstring for the vocabulary.
    """

    name = "offline"
    uses_focus = False

    def __init__(self, ocr: bool = True, objects: bool = True, background: bool = True,
                 scene_change: bool = True, min_text_score: float = 0.5, ocr_threads: int = 2, ocr_det_side: int = 640,
                 min_object_frac: float = 0.0015, max_object_frac: float = 0.3, min_fill: float = 0.4,
                 min_background_frac: float = 0.35, scene_threshold: float = 30.0):
        self.ocr = ocr
        self.objects = objects
        self.background = background
        self.scene_change = scene_change
        self.min_text_score = float(min_text_score)
        self.ocr_threads = int(ocr_threads)
        self.ocr_det_side = int(ocr_det_side)
        self.min_object_frac = float(min_object_frac)
        self.max_object_frac = float(max_object_frac)
        self.min_fill = float(min_fill)
        self.min_background_frac = float(min_background_frac)
        self.scene_threshold = float(scene_threshold)
        # Results depend on every option, so the cache key names them all.
        self.cache_key = "offline-visual:" + ",".join(
            f"{k}={v}" for k, v in sorted(vars(self).items()) if k != "cache_key")

    # -- public -------------------------------------------------------------------------------
    def describe(self, frames: list[np.ndarray], times: list[float], focus: str) -> list[list[Evidence]]:
        out: list[list[Evidence]] = []
        prev_thumb: np.ndarray | None = None
        prev_frame: np.ndarray | None = None
        prev_text: list[tuple[str, float, np.ndarray]] = []
        for frame, t in zip(frames, times):
            t = float(t)
            records: list[Evidence] = []
            frame = self._as_rgb(frame)
            # Only a pixel-identical frame (a static scene, or one frame picked for two times) reuses
            # the OCR result: any tolerance lets small changes (a clock's digit) drift unread.
            if prev_frame is not None and _same_picture(prev_frame, frame):
                text = prev_text
            else:
                text = self._read_text(frame) if self.ocr else []
            records.extend(Evidence(0, t, t, "text", s, {}, confidence=round(score, 4)) for s, score, _ in text)
            classes = colour_classes(frame)
            bg = self._background(classes)
            if self.background and bg is not None:
                records.append(Evidence(0, t, t, "visual", f"{_CLASS_NAMES[bg - 1]} background"))
            thumb = _thumb(frame)
            if self.scene_change and prev_thumb is not None:
                if float(np.abs(thumb - prev_thumb).mean()) > self.scene_threshold:
                    records.append(Evidence(0, t, t, "visual", "scene change"))
            if self.objects:
                records.extend(self._objects(classes, bg, [box for _, _, box in text], t))
            out.append(records)
            prev_thumb, prev_frame, prev_text = thumb, frame, text
        return out

    # -- pieces -------------------------------------------------------------------------------
    @staticmethod
    def _as_rgb(frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=2)
        if frame.ndim != 3 or frame.shape[2] not in (3, 4):
            raise ValueError(f"expected an H x W x 3 RGB frame, got shape {frame.shape}")
        return np.ascontiguousarray(frame[..., :3], dtype=np.uint8)

    def _read_text(self, rgb: np.ndarray) -> list[tuple[str, float, np.ndarray]]:
        engine = _ocr_engine(self.ocr_threads, self.min_text_score, self.ocr_det_side)
        result = engine(np.ascontiguousarray(rgb[..., ::-1]))  # rapidocr takes arrays as BGR
        if result.txts is None or result.boxes is None:
            return []
        lines = []
        # Top-to-bottom, left-to-right, as a reader would list them.
        for box, txt, score in sorted(zip(result.boxes, result.txts, result.scores),
                                      key=lambda r: (float(np.min(r[0][:, 1])), float(np.min(r[0][:, 0])))):
            txt = " ".join(str(txt).split())
            if txt and score >= self.min_text_score:
                lines.append((txt, float(score), np.asarray(box, dtype=np.float32)))
        return lines

    def _background(self, classes: np.ndarray) -> int | None:
        counts = np.bincount(classes.ravel(), minlength=len(_CLASS_NAMES) + 1)
        best = int(np.argmax(counts))
        return best if counts[best] >= self.min_background_frac * classes.size else None

    def _objects(self, classes: np.ndarray, bg: int | None, text_boxes: list[np.ndarray],
                 t: float) -> list[Evidence]:
        h, w = classes.shape
        area = h * w
        blocked = np.zeros((h, w), np.uint8)
        for box in text_boxes:  # blobs on text are letters, not objects
            cv2.fillPoly(blocked, [np.round(box).astype(np.int32)], 1)
        if text_boxes:
            blocked = cv2.dilate(blocked, np.ones((5, 5), np.uint8))
        kernel = np.ones((3, 3), np.uint8)
        records = []
        for cid, colour in enumerate(OBJECT_COLOURS, start=1):
            if cid == bg:
                continue
            mask = ((classes == cid) & (blocked == 0)).astype(np.uint8)
            if mask.sum() < self.min_object_frac * area:
                continue
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)  # drop edge fringes and noise
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            count = 0
            for x, y, bw, bh, a in stats[1:]:
                if not self.min_object_frac * area <= a <= self.max_object_frac * area:
                    continue
                if a < self.min_fill * bw * bh:
                    continue
                count += 1
            if count:
                noun = "object" if count == 1 else "objects"
                records.append(Evidence(0, t, t, "object", f"{count} {colour} {noun}",
                                        {"colour": colour, "count": count}))
        return records


def _same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    """True only when the two frames are pixel-identical (same shape, same bytes)."""
    return a is b or (a.shape == b.shape and np.array_equal(a, b))
