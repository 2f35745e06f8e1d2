"""Import AgentCVR's synthesised tasks (the JSON its ``data_synthesis`` generators write).

Each generator writes one JSON file per task (``task_N.json``; ``moc_task_N.json`` and
``msr_task_N.json`` for the UAV ones) into ``<type>_synthesis/``. The formats, as we read them:

========== ================================ ============================================ =========
generator  scripts                          question / options / gold                    ours
========== ================================ ============================================ =========
assembly   ``videos.video_K.clips[]``:      ``question``, ``options`` ("A. ..."),        PEA single
           start, end, action_type, visual  ``correct_answer`` letter
behavior   ``videos."K".timeline[]``:       ``options`` "A. Video 1".., ``answer`` list  BU multi
           start, end, visual; ``duration`` of letters (1-3 correct)
cooking    ``videos."K".timeline[]``: start, ``options`` "A. Video 1".., ``correct_answer`` CC single
           end, visual, caption; duration
grounding  ``synthesized_videos.video_A/B``: ``ref_segment`` [s, e] in video A, ``answer``   FSA interval
           timeline (visual, caption)       [s, e] in video B, ``question``              (video 2)
movie      ``videos."K"`` (or "A".."D"):     ``options`` "A. Video 1".., ``correct_answer`` NC single
           timeline (visual, caption)
plot       ``scripts.beginning/ending``:    ``options`` "A: ..." (6), ``correct_answer``; PI single
           timeline; ending times absolute  ``video_metadata.gap_interval`` = hidden middle
sort       ``segments."K"``: interval       ``answer`` "3->1->2": display positions in   PSS order
           [[s, e]], detailed_timeline      true chronological order; each segment   (video k =
                                            its own video, as run_PSS_agent.py          segment k)
uav_count  ``video_scripts[]``: timestamp,  ``question`` {text, options, correct_answer,  MOC single
           view_a, view_b (every 2 s)       cot_reasoning}
uav_pos.   same as uav_count                same, ``type`` "MSR"                         MSR single
========== ================================ ============================================ =========

AgentCVR's ``unify_video_fields.py`` may have renamed the script field (``synthesized_videos``,
``scripts``, ``segments``, ``video_scripts``) to ``videos``; both spellings are read.

Scripts: ``visual`` becomes a ``visual`` item; ``caption`` is the written-down audio track
(see :mod:`cvr_gym.importers.captions`) and becomes ``speech``/``sound`` items. A video's
``has_audio`` is true when its timeline has a ``caption`` field at all. Durations are the
declared ``duration`` (or the end of the last entry when there is none, or when the script
runs past it). The original generator type, id and meta are kept in ``Task.meta``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from cvr_gym.core.evidence import ScriptItem
from cvr_gym.importers.agentcvr_verl import is_verl_row, load_parquet_records, row_type, verl_source_record
from cvr_gym.importers.captions import CaptionMode, caption_items
from cvr_gym.importers.choices import clean_options, gold_letter, gold_letters, parse_order, video_of_option
from cvr_gym.importers.common import (
    Converted, ImportReport, RecordError, SourceRecord, as_interval, as_seconds, as_text, build_task,
    convert_all, fmt_s, load_records, need,
)

GENERATOR_TYPES: tuple[str, ...] = (
    "assembly", "behavior", "cooking", "grounding", "movie", "plot", "sort", "uav_count", "uav_position",
)

#: Our family for each generator type (the CrossVid task each generator imitates).
FAMILY_OF: dict[str, str] = {
    "assembly": "PEA", "behavior": "BU", "cooking": "CC", "grounding": "FSA", "movie": "NC",
    "plot": "PI", "sort": "PSS", "uav_count": "MOC", "uav_position": "MSR",
}

_FOLDER_TYPES = {
    "assembly_synthesis": "assembly", "behavior_synthesis": "behavior", "cooking_synthesis": "cooking",
    "grounding_synthesis": "grounding", "movie_synthesis": "movie", "plot_synthesis": "plot",
    "sort_synthesis": "sort", "moc_synthesis": "uav_count", "uav_count_synthesis": "uav_count",
    "msr_synthesis": "uav_position", "uav_position_synthesis": "uav_position",
}
_TYPE_ALIASES = {"uav_positon": "uav_position", "moc": "uav_count", "msr": "uav_position"}

LICENSE = "AgentCVR synthetic data (generators Apache-2.0); check the generating model's terms"
_UAV_STEP = 2.0  # the UAV generators describe the scene every 2 s


@dataclass(frozen=True)
class AgentCVROptions:
    """How to import: force a generator ``type`` (else detected), how to read ``caption`` fields."""

    type: str | None = None
    caption_mode: CaptionMode = "auto"
    license: str = LICENSE


def normalise_type(name: str) -> str:
    """A generator type name (``"uav_positon"``, ``"moc"`` and folder names are accepted)."""
    key = name.strip().lower().replace("-", "_")
    key = _FOLDER_TYPES.get(key, _TYPE_ALIASES.get(key, key))
    if key not in GENERATOR_TYPES:
        raise ValueError(f"unknown AgentCVR generator type {name!r}; expected one of {list(GENERATOR_TYPES)}")
    return key


def detect_type(record: SourceRecord) -> str | None:
    """The generator type of a record: from its folder, its file name, or its fields."""
    for part in reversed(PurePath(record.path).parts[:-1]):
        if part in _FOLDER_TYPES:
            return _FOLDER_TYPES[part]
    name = record.path.name
    if name.startswith("moc_task_"):
        return "uav_count"
    if name.startswith("msr_task_"):
        return "uav_position"
    return sniff_type(record.data)


def sniff_type(data: Any) -> str | None:
    """Guess the generator type from the fields of one task record."""
    if not isinstance(data, Mapping):
        return None
    question = data.get("question")
    if isinstance(question, Mapping):
        qtype = str(question.get("type", "")).upper()
        if qtype in ("MOC", "MSR"):
            return "uav_count" if qtype == "MOC" else "uav_position"
        return None
    videos = data.get("videos")
    if "synthesized_videos" in data or "ref_segment" in data:
        return "grounding"
    if "segments" in data or (isinstance(videos, Mapping) and any(
            isinstance(v, Mapping) and "detailed_timeline" in v for v in videos.values())):
        return "sort"
    if "scripts" in data or "video_metadata" in data or (isinstance(videos, Mapping) and "beginning" in videos):
        return "plot"
    if "video_scripts" in data or isinstance(videos, list):
        return None  # UAV scripts without the question dict: MOC or MSR cannot be told apart
    meta = data.get("meta") if isinstance(data.get("meta"), Mapping) else {}
    if "toy_id" in meta or "personas" in meta or (isinstance(videos, Mapping) and any(
            isinstance(v, Mapping) and "clips" in v for v in videos.values())):
        return "assembly"
    if isinstance(data.get("answer"), list) or "target_action" in meta or "nuance_context" in meta:
        return "behavior"
    if "recipe" in meta or "focus" in meta:
        return "cooking"
    if "genre" in meta or "keywords" in meta:
        return "movie"
    return None


# -- scripts -----------------------------------------------------------------------------------

def _video_key_index(key: Any) -> int | None:
    text = str(key).strip()
    m = re.fullmatch(r"(?:video[\s_]*)?(\d+)", text, re.IGNORECASE)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(?:video[\s_]*)?([A-Za-z])", text, re.IGNORECASE)
    if m:
        return ord(m.group(1).upper()) - ord("A") + 1
    return None


def ordered_videos(videos: Any, what: str = "videos") -> list[tuple[str, Any]]:
    """``{"video_2": .., "video_1": ..}`` / ``{"A": ..}`` / a list, as (key, value) in video order."""
    if isinstance(videos, list):
        return [(str(i + 1), v) for i, v in enumerate(videos)]
    if not isinstance(videos, Mapping) or not videos:
        raise RecordError(f"{what}: expected the videos as an object, got {type(videos).__name__}", "bad-videos")
    keyed = []
    for key, value in videos.items():
        index = _video_key_index(key)
        if index is None:
            raise RecordError(f"{what}: cannot tell which video {key!r} is", "bad-videos")
        keyed.append((index, str(key), value))
    keyed.sort()
    indices = [k[0] for k in keyed]
    if indices != list(range(1, len(indices) + 1)):
        raise RecordError(f"{what}: videos are numbered {indices}, expected 1..{len(indices)}", "bad-videos")
    return [(key, value) for _, key, value in keyed]


class _Script:
    """Builds one video's script from timeline entries and reports what it had to drop."""

    def __init__(self, label: str, caption_mode: CaptionMode, warnings: list[tuple[str, str]]):
        self.label = label
        self.caption_mode = caption_mode
        self.warnings = warnings
        self.items: list[ScriptItem] = []
        self.has_caption_field = False
        self.last_end = 0.0
        self.dropped: list[str] = []

    def add_entry(self, entry: Any, n: int, offset: float = 0.0) -> None:
        """Add timeline entry ``n`` (``start``/``end``/``visual``/``caption``), shifted back by ``offset``."""
        if not isinstance(entry, Mapping):
            self.dropped.append(f"entry {n} is not an object")
            return
        try:
            start = as_seconds(entry.get("start"), "start") - offset
            end = as_seconds(entry.get("end"), "end") - offset
        except RecordError as err:
            self.dropped.append(f"entry {n}: {err}")
            return
        if start < 0 or end < start:
            self.dropped.append(f"entry {n}: bad times {start + offset}-{end + offset} s")
            return
        self.add(start, end, entry.get("visual"), entry.get("caption"), "caption" in entry,
                 {"action_type": entry["action_type"]} if isinstance(entry.get("action_type"), str) else {})

    def add(self, start: float, end: float, visual: Any, caption: Any = None, has_caption: bool = False,
            attributes: dict[str, Any] | None = None) -> None:
        """Add what is seen (``visual``) and heard (``caption``) from ``start`` to ``end``."""
        self.has_caption_field |= has_caption
        self.last_end = max(self.last_end, end)
        if isinstance(visual, str) and visual.strip():
            self.items.append(ScriptItem(start=start, end=end, kind="visual", content=" ".join(visual.split()),
                                         attributes=attributes or {}))
        self.items.extend(caption_items(start, end, caption, self.caption_mode))

    def video(self, index: int, declared: Any = None) -> dict[str, Any]:
        """The video as a ``VideoSpec`` dict; ``declared`` is the source's stated duration."""
        if self.dropped:
            shown = "; ".join(self.dropped[:3]) + (f"; ... {len(self.dropped) - 3} more" if len(self.dropped) > 3 else "")
            self.warnings.append(("dropped-entries", f"{self.label}: {len(self.dropped)} timeline entries dropped ({shown})"))
        if not self.items:
            raise RecordError(f"{self.label}: the timeline has no usable entry", "empty-script")
        duration = self.last_end
        if declared is not None:
            try:
                stated = as_seconds(declared, f"{self.label} duration")
            except RecordError as err:
                self.warnings.append(("bad-duration", f"{err}; using the script's end {fmt_s(duration)} s"))
            else:
                if stated + 0.5 < self.last_end:
                    self.warnings.append(("script-past-duration", f"{self.label}: the script runs to "
                                          f"{fmt_s(self.last_end)} s, past its stated duration {fmt_s(stated)} s; using the script's end"))
                duration = max(stated, self.last_end)
        if duration <= 0:
            raise RecordError(f"{self.label}: no duration", "empty-script")
        items = sorted(self.items, key=lambda i: (i.start, i.end))
        return {"index": index, "duration": duration, "has_audio": self.has_caption_field,
                "script": [i.model_dump() for i in items]}


def _timeline_video(label: str, index: int, body: Any, mode: CaptionMode, warnings: list,
                    entries_key: Sequence[str] = ("timeline",), offset: float = 0.0) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise RecordError(f"{label}: expected an object with a timeline", "bad-videos")
    entries = need(body, *entries_key, what=label)
    if not isinstance(entries, list):
        raise RecordError(f"{label}: the timeline is not a list", "bad-videos")
    script = _Script(label, mode, warnings)
    for n, entry in enumerate(entries):
        script.add_entry(entry, n, offset)
    return script.video(index, body.get("duration"))


def _question_text(data: Mapping[str, Any]) -> str:
    question = need(data, "question")
    if isinstance(question, Mapping):
        question = need(question, "text", "question", what="question")
    return as_text(question, "question")


# -- one converter per generator type --------------------------------------------------------------

class _Converter:
    """Turns one AgentCVR record into a task dict (one method per generator type)."""

    def __init__(self, record: SourceRecord, kind: str, options: AgentCVROptions):
        self.record = record
        self.data = record.data
        self.kind = kind
        self.mode = options.caption_mode
        self.license = options.license
        self.warnings: list[tuple[str, str]] = []
        if not isinstance(self.data, Mapping):
            raise RecordError(f"expected a task object, got {type(self.data).__name__}", "not-an-object")

    def task(self) -> Converted:
        """The validated task with the common fields (id, family, source, meta) filled in."""
        fields = getattr(self, f"_{self.kind}")()
        source_id = self.data.get("id", PurePath(self.record.path).stem)
        meta = {"source_type": self.kind, "source_id": source_id, "source_file": self.record.where}
        if isinstance(self.data.get("meta"), Mapping):
            meta["source_meta"] = dict(self.data["meta"])
        meta.update(fields.pop("meta", {}))
        fields.update(id=f"agentcvr-{self.kind}-{source_id}", family=FAMILY_OF[self.kind], source="agentcvr",
                      license=self.license, meta=meta)
        return Converted(build_task(fields), self.kind, self.warnings)

    # shared shapes
    def _which_video(self, multi: bool) -> dict[str, Any]:
        """The "which video(s) ..." shape of behavior, cooking and movie."""
        videos = [_timeline_video(f"video {i}", i, body, self.mode, self.warnings)
                  for i, (_, body) in enumerate(ordered_videos(need(self.data, "videos")), start=1)]
        raw_options = self.data.get("options")
        options = clean_options(raw_options) if raw_options else [f"Video {v['index']}" for v in videos]
        if multi:
            answer: Any = gold_letters(need(self.data, "answer", "correct_answer"), len(options))
        else:
            answer = gold_letter(need(self.data, "correct_answer", "answer"), len(options))
        evidence = []
        for letter in ([answer] if isinstance(answer, str) else answer):
            k = video_of_option(options[ord(letter) - ord("A")])
            if k is not None and k <= len(videos):
                evidence.append({"video": k, "start": 0.0, "end": videos[k - 1]["duration"]})
        meta = {}
        for key in ("reasoning", "expanded_scenario"):
            if self.data.get(key):
                meta[f"source_{key}"] = self.data[key]
        return {"question": _question_text(self.data), "options": options,
                "answer_type": "multi" if multi else "single", "answer": answer, "videos": videos,
                "evidence": evidence, "meta": meta}

    def _behavior(self) -> dict[str, Any]:
        return self._which_video(multi=True)

    def _cooking(self) -> dict[str, Any]:
        return self._which_video(multi=False)

    def _movie(self) -> dict[str, Any]:
        return self._which_video(multi=False)

    def _assembly(self) -> dict[str, Any]:
        videos = []
        descriptions = {}
        for i, (key, body) in enumerate(ordered_videos(need(self.data, "videos")), start=1):
            videos.append(_timeline_video(f"video {i}", i, body, self.mode, self.warnings, ("clips", "timeline")))
            if isinstance(body, Mapping) and body.get("description"):
                descriptions[str(i)] = body["description"]
        options = clean_options(need(self.data, "options"))
        answer = gold_letter(need(self.data, "correct_answer", "answer"), len(options))
        return {"question": _question_text(self.data), "options": options, "answer_type": "single",
                "answer": answer, "videos": videos, "meta": {"video_descriptions": descriptions} if descriptions else {}}

    def _grounding(self) -> dict[str, Any]:
        pair = ordered_videos(need(self.data, "synthesized_videos", "videos"), "synthesized_videos")
        if len(pair) != 2:
            raise RecordError(f"expected two videos (A and B), got {len(pair)}", "bad-videos")
        videos = [_timeline_video(f"video {'AB'[i - 1]}", i, body, self.mode, self.warnings)
                  for i, (_, body) in enumerate(pair, start=1)]
        ref = as_interval(need(self.data, "ref_segment"), "ref_segment")
        answer = as_interval(need(self.data, "answer"), "answer")
        if answer[1] > videos[1]["duration"] + 1e-6:
            self.warnings.append(("answer-past-end", f"the answer ends at {fmt_s(answer[1])} s, after video B "
                                  f"({fmt_s(videos[1]['duration'])} s)"))
        return {"question": _question_text(self.data) + " (Video 1 is video A, video 2 is video B.)",
                "answer_type": "interval", "answer": list(answer), "answer_video": 2, "videos": videos,
                "evidence": [{"video": 1, "start": ref[0], "end": ref[1]}, {"video": 2, "start": answer[0], "end": answer[1]}],
                "meta": {"ref_segment": list(ref), "recipe": self.data.get("recipe"),
                         "original_question": self.data.get("question")}}

    def _plot(self) -> dict[str, Any]:
        scripts = need(self.data, "scripts", "videos")
        if not isinstance(scripts, Mapping):
            raise RecordError("scripts: expected {beginning, ending}", "bad-videos")
        begin = need(scripts, "beginning", what="scripts")
        ending = need(scripts, "ending", what="scripts")
        gap = None
        vm = self.data.get("video_metadata")
        if isinstance(vm, Mapping) and vm.get("gap_interval") is not None:
            gap = as_interval(vm["gap_interval"], "video_metadata.gap_interval")
        # The ending clip's times are those of the whole story (after the hidden middle): rebase them.
        offset = gap[1] if gap else 0.0
        if not gap and isinstance(ending, Mapping) and isinstance(ending.get("timeline"), list) and ending["timeline"]:
            first = ending["timeline"][0]
            start = first.get("start") if isinstance(first, Mapping) else None
            if isinstance(start, (int, float)) and not isinstance(start, bool) and start >= float(ending.get("duration") or 0) > 0:
                offset = float(start)
        videos = [_timeline_video("beginning", 1, begin, self.mode, self.warnings),
                  _timeline_video("ending", 2, ending, self.mode, self.warnings, offset=offset)]
        options = clean_options(need(self.data, "options"))
        answer = gold_letter(need(self.data, "correct_answer", "answer"), len(options))
        missing = f", about {fmt_s(gap[1] - gap[0])} s long," if gap else ""
        question = (_question_text(self.data) + f" (Video 1 is the beginning of the story and video 2 its ending; "
                    f"the middle{missing} is not shown.)")
        return {"question": question, "options": options, "answer_type": "single", "answer": answer,
                "videos": videos, "meta": {"gap_interval": list(gap) if gap else None, "ending_offset": offset,
                                           "original_question": self.data.get("question")}}

    def _sort(self) -> dict[str, Any]:
        segments = need(self.data, "segments", "videos")
        if not isinstance(segments, Mapping) or not segments:
            raise RecordError("segments: expected an object of numbered segments", "bad-segments")
        keys = sorted(segments, key=lambda k: _video_key_index(k) or 0)
        if [_video_key_index(k) for k in keys] != list(range(1, len(keys) + 1)):
            raise RecordError(f"segments are numbered {list(segments)}, expected 1..{len(keys)}", "bad-segments")
        # As AgentCVR's run_PSS_agent.py: each segment is its own video (clip_begin = its start),
        # numbered in the shuffled display order; the answer "2->3->1" names these videos.
        videos, descriptions = [], {}
        for index, key in enumerate(keys, start=1):
            seg = segments[key]
            if not isinstance(seg, Mapping):
                raise RecordError(f"segment {key}: expected an object", "bad-segments")
            parts = seg.get("interval")
            if not isinstance(parts, (list, tuple)):
                raise RecordError(f"segment {key}: expected an interval [[start, end], ...], got {parts!r}", "bad-segments")
            parts = [parts] if parts and not isinstance(parts[0], (list, tuple)) else parts
            spans = [as_interval(p, f"segment {key} interval") for p in (parts or [])]
            if not spans:
                raise RecordError(f"segment {key}: no interval", "bad-segments")
            timeline = seg.get("detailed_timeline") or []
            if not isinstance(timeline, list):
                raise RecordError(f"segment {key}: detailed_timeline is not a list", "bad-segments")
            begin, end = min(s for s, _ in spans), max(e for _, e in spans)
            script = _Script(f"segment {key}", self.mode, self.warnings)
            for n, entry in enumerate(timeline):
                script.add_entry(entry, n, offset=begin)
            video = script.video(index, end - begin)
            if abs(video["duration"] - (end - begin)) < 1e-3:
                video["clip"] = [begin, end]
            videos.append(video)
            if seg.get("_debug_desc"):
                descriptions[str(key)] = seg["_debug_desc"]
        order = parse_order(need(self.data, "answer"), len(keys))
        question = (_question_text(self.data) + f" Videos 1 to {len(keys)} are its segments, in shuffled order; "
                    'list all of them in chronological order (e.g. "2->3->1").')
        return {"question": question, "options": [f"Segment {k} (video {k})" for k in range(1, len(keys) + 1)],
                "answer_type": "order", "answer": [chr(ord("A") + k - 1) for k in order], "videos": videos,
                "meta": {"segment_descriptions": descriptions, "original_answer": self.data.get("answer"),
                         "recipe": self.data.get("recipe"), "original_question": self.data.get("question")}}

    def _uav(self) -> dict[str, Any]:
        rows = need(self.data, "video_scripts", "videos")
        if not isinstance(rows, list) or not rows:
            raise RecordError("video_scripts: expected a non-empty list", "bad-videos")
        times = []
        for n, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise RecordError(f"video_scripts[{n}]: expected an object", "bad-videos")
            times.append(as_seconds(row.get("timestamp"), f"video_scripts[{n}].timestamp"))
        order = sorted(range(len(rows)), key=lambda n: times[n])
        steps = [b - a for a, b in zip(sorted(times), sorted(times)[1:]) if b > a]
        step = min(steps) if steps else _UAV_STEP
        views = [_Script("view A", self.mode, self.warnings), _Script("view B", self.mode, self.warnings)]
        for pos, n in enumerate(order):
            start = times[n]
            end = times[order[pos + 1]] if pos + 1 < len(order) else start + step
            for script, key in zip(views, ("view_a", "view_b")):
                script.add(start, max(end, start), rows[n].get(key))
        videos = [views[0].video(1), views[1].video(2)]
        question = need(self.data, "question")
        qdict = question if isinstance(question, Mapping) else self.data
        options = clean_options(need(qdict, "options"))
        answer = gold_letter(need(qdict, "correct_answer", "answer"), len(options))
        meta: dict[str, Any] = {}
        if isinstance(question, Mapping):
            meta.update({f"source_question_{k}": v for k, v in question.items() if k in ("type", "cot_reasoning")})
        if self.kind == "uav_count":
            m = re.fullmatch(r"\s*(\d+)\s*\.?\s*", options[ord(answer) - ord("A")])
            if m:
                meta["count"] = int(m.group(1))
        text = _question_text(self.data) + " (Video 1 is view A, video 2 is view B, recorded at the same time.)"
        return {"question": text, "options": options, "answer_type": "single", "answer": answer,
                "videos": videos, "meta": meta}

    _uav_count = _uav
    _uav_position = _uav


def _kind_of_where(where: str) -> str | None:
    for part in PurePath(where.split(":")[0].split("[")[0]).parts[:-1]:
        if part in _FOLDER_TYPES:
            return _FOLDER_TYPES[part]
    return None


def convert_record(record: SourceRecord, options: AgentCVROptions = AgentCVROptions()) -> Converted:
    """Convert one AgentCVR record to a task (raises :class:`RecordError` if it cannot be mapped).

    Rows of AgentCVR's verl training data (:mod:`cvr_gym.importers.agentcvr_verl`) are accepted too."""
    if is_verl_row(record.data):
        kind, record = verl_source_record(record)
        return _Converter(record, normalise_type(kind), options).task()
    kind = normalise_type(options.type) if options.type else detect_type(record)
    if kind is None:
        raise RecordError("cannot tell which generator wrote this record; keep the <type>_synthesis folder "
                          "names or pass --type", "unknown-type")
    return _Converter(record, kind, options).task()


def import_agentcvr(src: str, options: AgentCVROptions = AgentCVROptions()) -> ImportReport:
    """Import every AgentCVR task file under ``src`` (a file or a folder); see the module docs."""
    if options.type:
        normalise_type(options.type)  # fail early on a bad --type
    report = ImportReport(source=str(src))
    path = PurePath(src)
    if path.suffix == ".parquet" or (Path(src).is_dir() and any(Path(src).rglob("*.parquet"))):
        records = load_parquet_records(Path(src), report)  # AgentCVR's verl training rows
        if Path(src).is_dir():
            records += load_records(src, report)
    else:
        records = load_records(src, report)
    # Files that did not even parse: name their generator from the folder when it says.
    report.skipped = [replace(p, kind=_kind_of_where(p.where) or p.kind) if p.kind == "?" else p
                      for p in report.skipped]

    def kind_of(record: SourceRecord) -> str:
        if is_verl_row(record.data):
            return row_type(record.data) or "?"
        return normalise_type(options.type) if options.type else (detect_type(record) or "?")

    return convert_all(records, lambda r: convert_record(r, options), report, kind_of)
