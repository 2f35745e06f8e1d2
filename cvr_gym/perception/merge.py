"""Per-frame perception records merged into evidence spans, as the script perceiver reports them."""

from __future__ import annotations

from cvr_gym.core.evidence import Evidence


def merge_frames(per_frame: list[list[Evidence]], times: list[float]) -> list[Evidence]:
    """Merge per-frame records: runs of consecutive frames with the same (kind, content) become one.

    Records keep the attributes of their first frame and the highest confidence seen; the
    result is ordered by first time seen. ``video`` is left 0.
    """
    order = sorted(range(len(times)), key=times.__getitem__)
    out: list[Evidence] = []
    live: dict[tuple[str, str], Evidence] = {}
    for i in order:
        t = times[i]
        now: dict[tuple[str, str], Evidence] = {}
        for rec in per_frame[i]:
            key = (rec.kind, rec.content)
            if key in now:
                continue
            ev = live.get(key)
            if ev is None:
                ev = Evidence(0, t, t, rec.kind, rec.content, dict(rec.attributes), float(rec.confidence))
                out.append(ev)
            else:
                ev.end = t
                ev.confidence = max(ev.confidence, float(rec.confidence))
            now[key] = ev
        live = now
    return out
