"""What a results record keeps of each step for later inspection (the episode viewer).

``info["looks"]`` (where the step looked: frame times per observe target, windows per listen,
decoded frame times and thumbnails from the real env), the per-call costs and the reward
components, in a compact JSON form with times rounded to the millisecond. The evidence lines
are in the observation texts records already keep; structured evidence records are added only
on request (they would double the size of a results file).
"""

from __future__ import annotations

from typing import Any

_TIME_LISTS = ("times", "decoded_times")


def _ms(value: Any) -> Any:
    return round(float(value), 3) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def compact_look(look: dict[str, Any]) -> dict[str, Any]:
    """A look with times rounded to milliseconds (thumbnails kept as they are)."""
    out: dict[str, Any] = {}
    for key, value in look.items():
        if key in _TIME_LISTS:
            out[key] = [_ms(t) for t in value]
        elif key in ("start", "end"):
            out[key] = _ms(value)
        else:
            out[key] = list(value) if isinstance(value, (list, tuple)) else value
    return out


def compact_evidence(ev: Any) -> dict[str, Any]:
    """An evidence record as a dict, without default fields (no attributes, confidence 1)."""
    d = ev.to_dict() if hasattr(ev, "to_dict") else dict(ev)
    out = {"video": d["video"], "start": _ms(d["start"]), "end": _ms(d["end"]), "kind": d["kind"], "content": d["content"]}
    if d.get("attributes"):
        out["attributes"] = d["attributes"]
    if d.get("confidence", 1.0) != 1.0:
        out["confidence"] = _ms(d["confidence"])
    return out


def step_trace(info: dict[str, Any], evidence: bool = False) -> dict[str, Any]:
    """The inspectable part of a step's ``info``: looks, call costs, reward components (and, with
    ``evidence``, the evidence records returned)."""
    from cvr_gym.evaluation.records import jsonable

    out = {
        "looks": [compact_look(jsonable(look)) for look in info.get("looks") or ()],
        "call_costs": jsonable(info.get("call_costs") or []),
        "reward_components": {k: _ms(v) for k, v in (info.get("reward_components") or {}).items()},
    }
    if evidence:
        out["evidence"] = [compact_evidence(ev) for ev in info.get("evidence") or ()]
    return out
