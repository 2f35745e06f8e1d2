"""Per-family summaries of evaluation records, as rows, a rich table or JSON."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

#: Summary columns: (key, header, format). Per episode means: frames, visual tokens, audio
#: seconds, modelled latency, tool calls, steps; ``valid``: the share of all actions the env
#: accepted (the valid tool-call rate of LLM masters).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("episodes", "n", "{:d}"),
    ("score", "score", "{:.3f}"),
    ("frames", "frames", "{:.1f}"),
    ("visual_tokens", "vis.tok", "{:.0f}"),
    ("audio_seconds", "audio s", "{:.1f}"),
    ("latency_s", "lat. s", "{:.2f}"),
    ("tool_calls", "calls", "{:.2f}"),
    ("steps", "steps", "{:.2f}"),
    ("valid_rate", "valid", "{:.3f}"),
)


def episode_score(record: dict[str, Any]) -> float:
    """The record's score, 0 when the episode ended without an answer."""
    return float(record.get("score") or 0.0)


def valid_rate(records: Sequence[dict[str, Any]]) -> float:
    """Share of the agent's actions (retries included) that the env accepted: no parse error."""
    actions = sum(len(r.get("parse_errors") or ()) for r in records)
    errors = sum(1 for r in records for e in r.get("parse_errors") or () if e)
    return 1.0 - errors / actions if actions else 1.0


def agent_stats(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The records' ``agent_stats`` counters summed (empty when no agent kept any), plus
    ``first_valid_rate``: the share of turns whose first draw the env's parser accepted, when the
    agent counted ``turns`` and ``first_invalid`` (LLM agents; ``valid_rate`` is what the env saw)."""
    sums: dict[str, float] = defaultdict(float)
    for r in records:
        for key, value in (r.get("agent_stats") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                sums[key] += value
    out = dict(sums)
    if out.get("turns") and "first_invalid" in out:
        out["first_valid_rate"] = 1.0 - out["first_invalid"] / out["turns"]
    return out


def _row(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    costs = [r.get("costs") or {} for r in records]
    row: dict[str, Any] = {"episodes": n, "score": sum(episode_score(r) for r in records) / n}
    for key in ("frames", "visual_tokens", "audio_seconds", "latency_s", "tool_calls", "steps"):
        row[key] = sum(float(c.get(key, 0) or 0) for c in costs) / n
    row["answered"] = sum(1 for r in records if r.get("termination_reason") == "answer") / n
    row["valid_rate"] = valid_rate(records)
    stats = agent_stats(records)
    if stats:
        row["agent_stats"] = stats
    return row


def summarise(records: Iterable[dict[str, Any]], by: str = "family") -> dict[str, dict[str, Any]]:
    """Mean score and costs per ``by`` value (family by default) plus an ``ALL`` row."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    everything = []
    for r in records:
        groups[str(r.get(by))].append(r)
        everything.append(r)
    out = {name: _row(groups[name]) for name in sorted(groups)}
    if everything:
        out["ALL"] = _row(everything)
    return out


def summary_table(summary: dict[str, dict[str, Any]], title: str = "", first: str = "family") -> Any:
    """A :class:`rich.table.Table` of a :func:`summarise` result."""
    from rich.table import Table

    table = Table(title=title or None)
    table.add_column(first)
    for _, header, _ in COLUMNS:
        table.add_column(header, justify="right")
    for name, row in summary.items():
        style = "bold" if name == "ALL" else None
        table.add_row(name, *(fmt.format(row[key]) for key, _, fmt in COLUMNS), style=style,
                      end_section=name != "ALL" and list(summary)[-1] == "ALL" and name == list(summary)[-2])
    return table


def run_label(record: dict[str, Any], with_env: bool = False) -> str:
    """How a record's run is named in comparisons: its agent spec (and env id when asked)."""
    label = str(record.get("agent") or record.get("agent_name") or "?")
    return f"{label} @ {record.get('env_id')}" if with_env else label


def group_runs(records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Records grouped by run label (agent, plus env id when several envs are present)."""
    records = list(records)
    with_env = len({r.get("env_id") for r in records}) > 1
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        runs[run_label(r, with_env)].append(r)
    return dict(runs)


def comparison_table(summaries: dict[str, dict[str, dict[str, Any]]], title: str = "") -> Any:
    """A rich table with one row per family and one column per run: ``score / frames`` per episode."""
    from rich.table import Table

    families = sorted({f for s in summaries.values() for f in s if f != "ALL"}) + ["ALL"]
    table = Table(title=title or None, caption="cells: mean score / frames per episode; (episodes) after the run")
    table.add_column("family")
    for run, s in summaries.items():
        table.add_column(f"{run} ({s['ALL']['episodes']})" if "ALL" in s else run, justify="right")
    for fam in families:
        cells = []
        for s in summaries.values():
            row = s.get(fam)
            cells.append("-" if row is None else f"{row['score']:.3f} / {row['frames']:.0f}")
        table.add_row(fam, *cells, style="bold" if fam == "ALL" else None, end_section=fam == families[-2])
    return table


def console() -> Any:
    """A rich console; when stdout is not a terminal, wide enough that tables do not wrap."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)
