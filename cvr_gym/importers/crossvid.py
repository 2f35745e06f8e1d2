"""Import the CrossVid benchmark's evaluation JSON (``QA/<TASK>.json``) as tasks with real videos.

Each ``QA/<TASK>.json`` is a list of records. The fields per task, as CrossVid's ``eval/<TASK>.py``
read them (paths are relative to ``videos/``, or to ``uav/`` for MSR and MOC):

====== ======================================================= =============================== ============
task   videos                                                  question / gold                 ours
====== ======================================================= =============================== ============
BU     ``videos`` [paths]                                      question, options, answer       multi
                                                               (list of letters; scored as
                                                               ``"".join(answer)``)
NC     ``videos``                                              question, options, answer "B"   single
CC     ``videos``                                              question, options, answer       single
PEA    ``videos``, ``begin``/``end`` (seconds, one per video:  question, options, answer       single
       the clip CrossVid shows; each video is that clip)
PI     ``video``, ``beginning``/``ending`` ([s, e] or          options, answer (no question)   single
       [[s, e], ...] in that one video): two clips, video 1
       and 2; the middle is in neither
FSA    ``video A``, ``video B``, ``ref_segment`` [s, e] in A   answer [s, e] in B; IoU         interval
PSS    ``video``, ``segments`` {k: [s, e] or [[s, e], ..]}     answer "2->3->1" (segment       order
       (labelled 1..n in dict order): segment k is video k,    numbers); exact string
       a clip, so its times do not give the order away
MSR    ``vid``: frame folders ``uav/frames/{1,2}/{vid}-{1,2}``, question/options with {A1}/{B2}  single
       (image-sequence videos at ``uav_fps``),
       boxes ``uav/bbox/{1,2}/{vid}.json``; ``objects`` [{id}] placeholders, answer
MOC    same as MSR                                             same                            single
CCQA   ``video A``, ``video B``                                question, answer (text),        free_text
                                                               ``scoring_points``; LLM judge
====== ======================================================= =============================== ============

BU, NC and CC records that carry ``begin``/``end`` get clips as PEA does.

Our tasks have no scripts (``VideoSpec.script`` empty); ``path`` is relative to the data root
(the output file's folder). Durations come from the files (PyAV), else from a ``duration`` /
``durations`` field in the record, else ``default_duration``; otherwise the record is reported
as needing its videos. Records whose paths leave the data root are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from cvr_gym.core.tasks import OPTION_LETTERS, Task
from cvr_gym.importers.choices import clean_options, gold_letter, gold_letters, parse_order
from cvr_gym.importers.common import (
    Converted, ImportReport, RecordError, SourceRecord, as_interval, as_seconds, as_text, build_task,
    convert_all, fmt_s, load_records, need,
)
from cvr_gym.importers.media import MediaLocator, count_images

CROSSVID_TASKS: tuple[str, ...] = ("BU", "NC", "CC", "PEA", "PI", "FSA", "PSS", "MSR", "MOC", "CCQA")
LICENSE = "MIT (CrossVid annotations); videos under the licenses of their source datasets"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PEA_GLOSSARY = (
    "Error types: 'wrong order' = a step done out of order; 'previous one is mistake' = an out-of-order "
    "step forced by an earlier ordering mistake; 'shouldn't have happened' = an unnecessary action; "
    "'wrong position' = two parts joined at the wrong place."
)


@dataclass(frozen=True)
class CrossVidOptions:
    """Where things are and what to assume.

    Arguments:
        data_root: the suite's data root (the output file's folder); every path must be inside.
        videos_dir: CrossVid's ``videos/`` folder (paths in BU..CCQA are relative to it).
        uav_dir: CrossVid's ``uav/`` folder (``frames/`` and ``bbox/`` of MSR and MOC).
        task: the CrossVid task of every record (else from the file name, e.g. ``BU.json``).
        default_duration: seconds to assume for a video that is neither present nor described.
        uav_fps: frame rate assumed for the UAV frame folders (they carry no timing).
    """

    data_root: Path
    videos_dir: Path
    uav_dir: Path
    task: str | None = None
    default_duration: float | None = None
    uav_fps: float = 30.0
    license: str = LICENSE


def task_of(record: SourceRecord, forced: str | None = None) -> str | None:
    """The CrossVid task of a record: forced, else the file name (``BU.json``), else a ``task`` field."""
    if forced:
        return forced.upper()
    stem = PurePath(record.path).stem.upper()
    if stem in CROSSVID_TASKS:
        return stem
    if isinstance(record.data, Mapping):
        value = str(record.data.get("task", record.data.get("task_type", ""))).upper()
        if value in CROSSVID_TASKS:
            return value
    return None


class _Converter:
    """Turns one CrossVid record into a task dict (one method per task)."""

    def __init__(self, record: SourceRecord, task: str, options: CrossVidOptions, media: MediaLocator):
        if not isinstance(record.data, Mapping):
            raise RecordError(f"expected a record object, got {type(record.data).__name__}", "not-an-object")
        self.record, self.data, self.kind = record, record.data, task
        self.opt, self.media = options, media
        self.warnings: list[tuple[str, str]] = []
        self.sources: list[str] = []

    def task(self) -> Converted:
        """The validated task with the common fields (id, family, source, meta) filled in."""
        fields = getattr(self, f"_{self.kind.lower()}")()
        source_id = self.data.get("id", "x")
        meta = {"source_task": self.kind, "source_id": source_id, "source_file": self.record.where,
                "duration_source": self.sources}
        meta.update(fields.pop("meta", {}))
        fields.update(id=f"crossvid-{self.kind}-{source_id}", family=self.kind, source="crossvid",
                      license=self.opt.license, meta=meta)
        return Converted(build_task(fields), self.kind, self.warnings)

    # -- videos ----------------------------------------------------------------------------------
    def _declared_duration(self, n: int, count: int) -> float | None:
        """A duration for the n-th of ``count`` videos from the record itself, if it has one."""
        value = self.data.get("durations", self.data.get("duration"))
        if isinstance(value, (list, tuple)) and len(value) == count:
            value = value[n]
        elif count != 1 or isinstance(value, (list, tuple, Mapping)):
            value = None
        if value is None:
            return None
        return as_seconds(value, "duration")

    def _video(self, index: int, name: Any, count: int) -> dict[str, Any]:
        located = self.media.locate(self.opt.videos_dir, as_text(name, f"video {index}"))
        if not located.is_file and not PurePath(located.relative).suffix:
            with_ext = self.media.locate(self.opt.videos_dir, f"{name}.mp4")
            if with_ext.is_file:
                located = with_ext
        spec: dict[str, Any] = {"index": index, "path": located.relative}
        if located.is_file:
            info = self.media.probe(located.absolute)
            spec.update(duration=info.duration, fps=info.fps, has_audio=info.has_audio)
            self.sources.append("file")
            return spec
        return self._fallback_duration(spec, index, count, located.relative)

    def _fallback_duration(self, spec: dict[str, Any], index: int, count: int, shown: str,
                           flag: str = "--videos") -> dict[str, Any]:
        declared = self._declared_duration(index - 1, count)
        if declared:
            spec["duration"] = declared
            self.sources.append("record")
        elif self.opt.default_duration:
            spec["duration"] = self.opt.default_duration
            self.sources.append("default")
            self.warnings.append(("default-duration", f"{shown} not found; assumed {fmt_s(self.opt.default_duration)} s"))
        else:
            raise RecordError(f"needs videos: {shown} is not under the data root and the record gives no "
                              f"duration (pass {flag} DIR or --default-duration S)", "needs-videos")
        return spec

    def _videos(self, names: Any) -> list[dict[str, Any]]:
        if not isinstance(names, list) or not names:
            raise RecordError(f"videos: expected a list of paths, got {names!r}", "bad-videos")
        return [self._video(i, n, len(names)) for i, n in enumerate(names, start=1)]

    def _options(self) -> list[str]:
        return clean_options(need(self.data, "options"))

    # -- one method per task -----------------------------------------------------------------------
    def _choice(self, multi: bool = False) -> dict[str, Any]:
        options = self._options()
        raw = need(self.data, "answer")
        answer: Any = gold_letters(raw, len(options)) if multi else gold_letter(raw, len(options))
        videos = self._videos(need(self.data, "videos"))
        fields = {"question": as_text(need(self.data, "question"), "question"), "options": options,
                  "answer_type": "multi" if multi else "single", "answer": answer,
                  "videos": videos, "meta": {"original_answer": raw}}
        if "begin" in self.data or "end" in self.data:  # PEA always; BU records may carry them too
            begins, ends = need(self.data, "begin"), need(self.data, "end")
            n = len(videos)
            if not isinstance(begins, list) or not isinstance(ends, list) or len(begins) != n or len(ends) != n:
                raise RecordError(f"begin/end: expected one value per video ({n})", "bad-interval")
            windows = [as_interval([b, e], f"clip of video {i + 1}") for i, (b, e) in enumerate(zip(begins, ends))]
            fields["videos"] = [self._clip(v, b, e) for v, (b, e) in zip(videos, windows)]
            fields["meta"]["clips"] = [list(w) for w in windows]
        return fields

    def _clip(self, video: dict[str, Any], begin: float, end: float, index: int | None = None) -> dict[str, Any]:
        """``video`` cut to the file window [begin, end] (times then run from 0 at ``begin``)."""
        full = video["duration"]
        index = video["index"] if index is None else index
        if begin >= full:
            raise RecordError(f"the clip of video {index} starts at {fmt_s(begin)} s, after the video ends "
                              f"({fmt_s(full)} s)", "bad-interval")
        if end > full + 1e-6:
            self.warnings.append(("clip-past-end", f"the clip of video {index} ends at {fmt_s(end)} s, after the "
                                  f"video ({fmt_s(full)} s); cut there"))
            end = full
        return {**video, "index": index, "clip": [begin, end], "duration": end - begin}

    def _bu(self) -> dict[str, Any]:
        return self._choice(multi=True)

    def _nc(self) -> dict[str, Any]:
        return self._choice()

    def _cc(self) -> dict[str, Any]:
        return self._choice()

    def _pea(self) -> dict[str, Any]:
        need(self.data, "begin"), need(self.data, "end")
        fields = self._choice()  # each video is the clip CrossVid shows (begin/end)
        fields["meta"]["original_question"] = fields["question"]
        fields["question"] = f"{fields['question']} {_PEA_GLOSSARY}"
        fields["evidence"] = [{"video": v["index"], "start": 0.0, "end": v["duration"]} for v in fields["videos"]]
        return fields

    def _pi(self) -> dict[str, Any]:
        options = self._options()
        raw = need(self.data, "answer")
        video = self._video(1, need(self.data, "video"), 1)
        spans = {name: _spans(need(self.data, name), name) for name in ("beginning", "ending")}
        # As AgentCVR's run_PI_agent.py: video 1 is the beginning clip, video 2 the ending clip of the
        # same file; the middle is in neither, so it cannot be observed.
        videos = []
        for index, name in enumerate(("beginning", "ending"), start=1):
            parts = spans[name]
            if len(parts) > 1:
                self.warnings.append(("joined-spans", f"the {name} has {len(parts)} spans; the clip covers them and "
                                      "what lies between"))
            videos.append(self._clip(video, min(s for s, _ in parts), max(e for _, e in parts), index))
        question = ("Video 1 is the beginning of a movie clip and video 2 its ending; the middle is not shown. "
                    "What most likely happened in between?")
        return {"question": question, "options": options, "answer_type": "single",
                "answer": gold_letter(raw, len(options)), "videos": videos,
                "evidence": [{"video": v["index"], "start": 0.0, "end": v["duration"]} for v in videos],
                "meta": {"beginning": spans["beginning"], "ending": spans["ending"], "original_answer": raw}}

    def _fsa(self) -> dict[str, Any]:
        videos = [self._video(1, need(self.data, "video A"), 2), self._video(2, need(self.data, "video B"), 2)]
        ref = as_interval(need(self.data, "ref_segment"), "ref_segment")
        answer = as_interval(need(self.data, "answer"), "answer")
        if answer[1] > videos[1]["duration"] + 1e-6:
            self.warnings.append(("answer-past-end", f"the answer ends at {fmt_s(answer[1])} s, after video 2 "
                                  f"({fmt_s(videos[1]['duration'])} s)"))
        question = (f"Both videos cook the same dish. Which time span of video 2 carries out the same step as "
                    f"video 1 does from {fmt_s(ref[0])} s to {fmt_s(ref[1])} s?")
        return {"question": question, "answer_type": "interval", "answer": list(answer), "answer_video": 2,
                "videos": videos, "evidence": [{"video": 1, "start": ref[0], "end": ref[1]},
                                               {"video": 2, "start": answer[0], "end": answer[1]}],
                "meta": {"ref_segment": list(ref)}}

    def _pss(self) -> dict[str, Any]:
        segments = need(self.data, "segments")
        if not isinstance(segments, Mapping) or len(segments) < 2:
            raise RecordError("segments: expected an object with at least two segments", "bad-segments")
        keys = list(segments)
        if [str(k) for k in keys] != [str(i) for i in range(1, len(keys) + 1)]:
            self.warnings.append(("segment-keys", f"segment keys {keys} are not 1..{len(keys)} in order; they are "
                                  "numbered by position, as CrossVid does"))
        spans = []
        for pos, key in enumerate(keys, start=1):
            value = segments[key]
            if isinstance(value, Mapping):
                value = value.get("interval")
            spans.append(_spans(value, f"segment {key}"))
        raw = need(self.data, "answer")
        order = parse_order(raw, len(keys))
        video = self._video(1, need(self.data, "video"), 1)
        # Each segment is its own video (a clip of the file), numbered as CrossVid labels them
        # ("Segment k" = video k), so its times say nothing about the order.
        videos = []
        for k, parts in enumerate(spans, start=1):
            if len(parts) > 1:
                self.warnings.append(("joined-spans", f"segment {k} has {len(parts)} spans; its clip covers them "
                                      "and what lies between"))
            videos.append(self._clip(video, min(s for s, _ in parts), max(e for _, e in parts), k))
        options = [f"Segment {k} (video {k})" for k in range(1, len(spans) + 1)]
        question = (f"Videos 1 to {len(spans)} are segments of one cooking video, in shuffled order. Put all of "
                    'them in chronological order (e.g. "2->3->1").')
        return {"question": question, "options": options, "answer_type": "order",
                "answer": [OPTION_LETTERS[k - 1] for k in order], "videos": videos,
                "meta": {"original_answer": raw, "segments": [[list(p) for p in sp] for sp in spans]}}

    def _msr(self) -> dict[str, Any]:
        return self._uav()

    def _moc(self) -> dict[str, Any]:
        return self._uav()

    def _ccqa(self) -> dict[str, Any]:
        videos = [self._video(1, need(self.data, "video A"), 2), self._video(2, need(self.data, "video B"), 2)]
        points = _scoring_points(self.data.get("scoring_points"))
        if not points:
            self.warnings.append(("no-scoring-points", "no scoring points: the answer is scored by token F1"))
        question = as_text(need(self.data, "question"), "question")
        return {"question": f"{question} (Video 1 is video A, video 2 is video B.)", "answer_type": "free_text",
                "answer": as_text(need(self.data, "answer"), "answer"), "scoring_points": points,
                "videos": videos, "meta": {"original_question": question}}

    # -- MSR / MOC: two drone views stored as frame folders, objects given by boxes ----------------
    def _uav(self) -> dict[str, Any]:
        vid = self.data.get("vid")
        sample = None
        if vid is None and isinstance(self.data.get("class"), str) and "-" in self.data["class"]:
            vid, sample = self.data["class"].split("-", 1)  # AgentCVR's copy names it "class": "22-3"
        if vid is None or not re.fullmatch(r"[\w.-]+", str(vid)):
            raise RecordError(f"vid: expected a UAV sequence id, got {vid!r}", "missing-field")
        vid = str(vid)
        question = as_text(need(self.data, "question"), "question")
        tags = list(dict.fromkeys(_PLACEHOLDER.findall(question)))
        bad = [t for t in tags if not re.fullmatch(r"[AB][1-9]", t)]
        if bad:
            raise RecordError(f"question names objects {bad}; expected {{A1}}..{{B9}}", "bad-placeholder")
        names = {t: f"obj_{k}" for k, t in enumerate(tags, start=1)}
        options = [_fill(o, names) for o in self._options()]
        raw = need(self.data, "answer")
        answer = gold_letter(raw, len(options))
        videos = []
        for view in (1, 2):
            located = self.media.locate(self.opt.uav_dir, f"frames/{view}/{vid}-{view}")
            spec: dict[str, Any] = {"index": view, "path": located.relative, "has_audio": False}
            n_frames = count_images(located.absolute) if located.is_dir else 0
            if n_frames:
                spec.update(duration=n_frames / self.opt.uav_fps, fps=self.opt.uav_fps)
                self.sources.append("frames")
            else:
                spec = self._fallback_duration(spec, view, 2, located.relative, "--uav")
            videos.append(spec)
        objects = self._objects(vid, sample)
        facts = [self._first_sight(tag, names[tag], vid, objects) for tag in tags]
        text = _fill(question, names) + (" (Video 1 is view A and video 2 is view B: two drones filming the same "
                                         "road at the same time.)")
        if facts:
            text += " Objects: " + "; ".join(facts) + "."
        self.warnings.append(("frame-folders", "the views are folders of frames, read as image sequences at "
                              f"{fmt_s(self.opt.uav_fps)} fps (CrossVid gives them no timing; --uav-fps sets it)"))
        return {"question": text, "options": options, "answer_type": "single", "answer": answer, "videos": videos,
                "meta": {"vid": vid, "objects": {names[t]: t for t in tags}, "original_question": question,
                         "original_answer": raw}}

    def _objects(self, vid: str, sample: str | None) -> list[Any]:
        objects = self.data.get("objects")
        if objects is None and sample is not None:
            samples = self._read_uav_json(f"samples/{vid}.json")
            try:
                entry = samples[int(sample)] if isinstance(samples, list) else samples[str(sample)]
                objects = list(entry.get("moving", [])) + list(entry.get("unmoving", []))
            except (KeyError, IndexError, ValueError, TypeError, AttributeError):
                raise RecordError(f"uav/samples/{vid}.json has no sample {sample}", "needs-uav-data") from None
        if not isinstance(objects, list):
            raise RecordError("objects: expected the list of queried objects", "missing-field")
        return objects

    def _read_uav_json(self, relative: str) -> Any:
        located = self.media.locate(self.opt.uav_dir, relative)
        if not located.is_file:
            raise RecordError(f"needs uav data: {located.relative} not found under the data root", "needs-uav-data")
        try:
            return json.loads(located.absolute.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RecordError(f"cannot read {located.relative}: {err}", "needs-uav-data") from None

    def _first_sight(self, tag: str, name: str, vid: str, objects: list[Any]) -> str:
        view = 1 if tag[0] == "A" else 2
        idx = int(tag[1:]) - 1
        if idx >= len(objects):
            raise RecordError(f"{{{tag}}} names object {idx + 1}, the record lists {len(objects)}", "bad-placeholder")
        item = objects[idx]
        obj_id = item.get("id") if isinstance(item, Mapping) else item
        entities = self._read_uav_json(f"bbox/{view}/{vid}.json")
        entity = next((e for e in entities if isinstance(e, Mapping) and e.get("id") == obj_id), None) \
            if isinstance(entities, list) else None
        if entity is None:
            raise RecordError(f"object {obj_id!r} is not in uav/bbox/{view}/{vid}.json", "needs-uav-data")
        frame, box = _first_box(entity.get("bbox"))
        if frame is None:
            raise RecordError(f"object {obj_id!r} has no box in view {tag[0]}", "needs-uav-data")
        return (f"{name} is first seen in video {view} (view {tag[0]}) at {fmt_s(round(frame / self.opt.uav_fps, 2))} s, "
                f"box [{', '.join(str(int(v)) for v in box)}] px")


def _fill(text: str, names: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: names.get(m.group(1), m.group(0)), text)


def _box(value: Any) -> list[float] | None:
    if isinstance(value, Mapping) and all(value.get(k) is not None for k in ("xtl", "ytl", "xbr", "ybr")):
        return [value["xtl"], value["ytl"], value["xbr"], value["ybr"]]
    if isinstance(value, (list, tuple)) and len(value) == 4 and all(isinstance(v, (int, float)) for v in value):
        return list(value)
    return None


def _first_box(container: Any) -> tuple[int | None, list[float] | None]:
    """The first frame index with a box, from ``{"12": {xtl..}}`` or a per-frame list."""
    if isinstance(container, Mapping):
        frames = sorted((int(k), v) for k, v in container.items() if str(k).lstrip("-").isdigit())
    elif isinstance(container, list):
        frames = list(enumerate(container))
    else:
        return None, None
    for frame, value in frames:
        box = _box(value)
        if box is not None and frame >= 0:
            return frame, box
    return None, None


def _spans(value: Any, what: str) -> list[tuple[float, float]]:
    """``[s, e]`` or ``[[s, e], ...]`` as a list of intervals."""
    if not isinstance(value, (list, tuple)) or not value:
        raise RecordError(f"{what}: expected [start, end] or [[start, end], ...], got {value!r}", "bad-interval")
    parts = value if isinstance(value[0], (list, tuple)) else [value]
    return [as_interval(p, what) for p in parts]


def _scoring_points(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # "1. first point\n2. second point" or "- a\n- b"
        lines = re.split(r"\n+|\s+(?=\d+[.)]\s)", value)
        lines = [re.sub(r"^\s*(?:\d+[.)]|[-•*])\s*", "", line).strip(" ;") for line in lines]
        return [line for line in lines if line]
    if isinstance(value, (list, tuple)):
        return [str(p).strip() for p in value if str(p).strip()]
    raise RecordError(f"scoring_points: expected a list of points, got {type(value).__name__}", "bad-points")


def to_our_answer(task: Task, raw: Any) -> Any:
    """Turn an answer written in CrossVid's output format into ours.

    Only PSS differs: CrossVid's models answer with segment numbers (``"2->3->1"``), our agents
    with option letters; numbers are mapped to letters (``["B", "C", "A"]``). Anything else is
    returned unchanged.
    """
    if task.answer_type == "order" and isinstance(raw, str) and re.fullmatch(r"\s*\d+(\s*(->|,|\s)\s*\d+)*\s*", raw):
        numbers = [int(x) for x in re.findall(r"\d+", raw)]
        if all(1 <= k <= len(task.options) for k in numbers):
            return [OPTION_LETTERS[k - 1] for k in numbers]
    return raw


def convert_record(record: SourceRecord, options: CrossVidOptions, media: MediaLocator | None = None) -> Converted:
    """Convert one CrossVid record (raises :class:`RecordError` if it cannot be mapped)."""
    task = task_of(record, options.task)
    if task is None:
        raise RecordError("cannot tell the CrossVid task; name the file <TASK>.json (BU, NC, ...) or pass --task",
                          "unknown-task")
    if task not in CROSSVID_TASKS:
        raise RecordError(f"unknown CrossVid task {task!r}", "unknown-task")
    return _Converter(record, task, options, media or MediaLocator(options.data_root)).task()


def import_crossvid(src: str | Path, options: CrossVidOptions) -> ImportReport:
    """Import CrossVid QA files under ``src`` (one ``<TASK>.json`` or a folder of them)."""
    if options.task and options.task.upper() not in CROSSVID_TASKS:
        raise ValueError(f"unknown CrossVid task {options.task!r}; expected one of {list(CROSSVID_TASKS)}")
    report = ImportReport(source=str(src))
    def accept(path: Path) -> str | None:
        if options.task or path.stem.upper() in CROSSVID_TASKS:
            return None
        return f"not a CrossVid QA file (expected one of {', '.join(CROSSVID_TASKS)} .json)"

    records = load_records(src, report, patterns=("*.json",), recursive=False, accept=accept)
    media = MediaLocator(options.data_root)
    return convert_all(records, lambda r: convert_record(r, options, media), report,
                       lambda r: task_of(r, options.task) or "?")
