"""The team memory: every tool call the agents made and what it returned, round by round.

After each round every agent's calls and their results are written to the memory; an entry is
*new evidence* when it holds an evidence item (same video, kind and content) that no earlier
entry held. Which agents read an entry is up to the round's topology
(:mod:`cvr_gym.team.topology`); they read it as text formatted exactly like their own tool
results, under a ``Team memory`` heading, and as structured records in ``info["team"]``.
"""

from __future__ import annotations

from functools import cached_property
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.evidence import Evidence
from cvr_gym.core.formatting import ToolResult, format_result


def evidence_key(ev: Evidence) -> tuple[int, str, str]:
    """What makes an evidence item the same item for the memory: video, kind and content
    (the same scene seen at two frame times is one item)."""
    return (int(ev.video), ev.kind, ev.content)


@dataclass
class MemoryEntry:
    """One tool call of one agent in one round, with everything it returned.

    ``results`` holds one :class:`ToolResult` per observe target (one for listen and answer);
    ``new_items`` counts the evidence items no earlier entry held.
    """

    round: int
    agent: str
    call: ToolCall
    results: list[ToolResult]
    new_items: int = 0

    @property
    def evidence(self) -> list[Evidence]:
        return [ev for r in self.results for ev in r.evidence]

    @property
    def latency_s(self) -> float:
        return sum(r.cost.latency_s for r in self.results if r.cost is not None)

    @cached_property
    def text(self) -> str:
        """The entry as the agents read it: ``[agent_1] `` before the usual tool-result text."""
        return "\n".join(f"[{self.agent}] {format_result(r)}" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, evidence as (copied) :class:`Evidence` records like ``info["evidence"]``."""
        return {"round": self.round, "agent": self.agent, "call": self.call.to_dict(),
                "evidence": [Evidence(ev.video, ev.start, ev.end, ev.kind, ev.content, dict(ev.attributes), ev.confidence)
                             for ev in self.evidence],
                "errors": [r.error for r in self.results if r.error], "new_items": self.new_items}


def _by_call(results: Sequence[ToolResult]) -> list[tuple[ToolCall, list[ToolResult]]]:
    """Group a step's results by the call that produced them (an observe call has one per target)."""
    groups: list[tuple[ToolCall, list[ToolResult]]] = []
    for r in results:
        if groups and groups[-1][0] is r.call:
            groups[-1][1].append(r)
        else:
            groups.append((r.call, [r]))
    return groups


@dataclass
class TeamMemory:
    """All entries of an episode and the evidence items they hold."""

    entries: list[MemoryEntry] = field(default_factory=list)
    _known: set[tuple[int, str, str]] = field(default_factory=set)

    def write(self, round_: int, results: Mapping[str, Sequence[ToolResult]]) -> dict[str, list[MemoryEntry]]:
        """Write one round: ``results`` maps each agent (in team order) to its step's tool results.

        Items are new when no earlier round held them and no agent earlier in team order found
        them this round, so two agents finding the same thing at once are credited once.
        Returns each agent's new entries.
        """
        written: dict[str, list[MemoryEntry]] = {}
        for agent, agent_results in results.items():
            entries = []
            for call, call_results in _by_call(agent_results):
                entry = MemoryEntry(round_, agent, call, list(call_results))
                for ev in entry.evidence:
                    key = evidence_key(ev)
                    if key not in self._known:
                        self._known.add(key)
                        entry.new_items += 1
                entries.append(entry)
            self.entries.extend(entries)
            written[agent] = entries
        return written

    def __len__(self) -> int:
        return len(self.entries)


def memory_section(entries: Iterable[MemoryEntry]) -> str:
    """The ``Team memory`` part of an observation: the entries an agent received this round."""
    entries = list(entries)
    if not entries:
        return "Team memory: nothing new from the other agents."
    return "Team memory (the other agents' calls and results this round):\n" + "\n".join(e.text for e in entries)


def with_memory(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` as if the agent had made the calls it received from the team memory itself: their
    calls appended to ``tool_calls`` and their evidence to ``evidence`` (its own totals and
    budget unchanged). A single-agent reader, encoder or policy then uses the memory without
    knowing about teams."""
    entries = (info.get("team") or {}).get("memory") or ()
    if not entries:
        return info
    out = dict(info)
    out["tool_calls"] = list(info.get("tool_calls") or ()) + [e["call"] for e in entries
                                                               if e["call"].get("name") != "answer"]
    out["evidence"] = list(info.get("evidence") or ()) + [ev for e in entries for ev in e["evidence"]]
    return out
