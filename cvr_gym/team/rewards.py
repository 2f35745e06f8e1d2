"""The team's reward terms, added to each agent's own rubric (outcome, format, cost, grounding).

- ``team_outcome``: the team answer's score in [0, 1], paid to every agent when the episode ends;
- ``collaboration``: per tool call of the agent that added evidence new to the team memory, and
  minus ``over_limit`` per call past ``call_limit`` calls of the agent (VideoChat-M1 penalises
  more than 5 tool calls strongly).

``cost_sharing="team"`` makes each agent's ``cost`` term the whole team's (as ``team_outcome`` is
the whole team's), so an agent gains nothing by leaving the looking to the others: within an
episode the agents' returns then differ only by their own answers and collaboration terms, the
cooperative setting for training one shared policy. ``"own"`` (default) keeps each agent's own,
as in the single env.

The agent's own answer is scored by its env as in the single-agent env (``outcome``), with the
weights of the env's :class:`~cvr_gym.core.rewards.RewardConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

TEAM_COMPONENTS = ("team_outcome", "collaboration")


@dataclass(frozen=True)
class TeamRewardConfig:
    """Weights of the team reward terms.

    Arguments:
        team_outcome: weight of the team answer's score, paid to every agent at the end.
        collaboration: reward per call that added new evidence to the team memory.
        call_limit: tool calls (observe, listen) an agent may make before each one is penalised.
        over_limit: penalty per tool call past ``call_limit``.
        cost_sharing: ``"own"`` (each agent's cost term is its own spend) or ``"team"`` (each
            agent's cost term is the whole team's).
    """

    team_outcome: float = 1.0
    collaboration: float = 0.05
    call_limit: int = 5
    over_limit: float = 0.2
    cost_sharing: str = "own"

    def __post_init__(self) -> None:
        if self.cost_sharing not in ("own", "team"):
            raise ValueError(f"cost_sharing must be 'own' or 'team', got {self.cost_sharing!r}")

    @classmethod
    def from_any(cls, value: "TeamRewardConfig | dict | None") -> "TeamRewardConfig":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown team reward weights {sorted(unknown)}; known: {sorted(known)}")
        return cls(**value)

    def collaboration_term(self, new_evidence_calls: int, calls_before: int, calls_now: int) -> float:
        """This round's collaboration term for an agent that had made ``calls_before`` tool calls
        and made ``calls_now`` more, ``new_evidence_calls`` of which added new evidence."""
        over = max(0, calls_before + calls_now - self.call_limit) - max(0, calls_before - self.call_limit)
        return self.collaboration * new_evidence_calls - self.over_limit * over
