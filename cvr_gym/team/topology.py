"""Communication topologies: whose memory entries reach whom in a round.

VideoChat-M1 lets every agent read what the others did after each step and trains with *agent
dropout*: a random communication topology per step. ``sees[i, j]`` says that agent ``i`` receives
agent ``j``'s entries of the round (never its own: those are in its own step result).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

TopologyName = Literal["full", "ring", "dropout"]
TOPOLOGIES: tuple[str, ...] = ("full", "ring", "dropout")


@dataclass(frozen=True)
class Topology:
    """Who receives whose memory entries, drawn once per round.

    Arguments:
        kind: ``"full"`` (everyone sees everyone), ``"ring"`` (each agent sees its two
            neighbours, ``i - 1`` and ``i + 1`` modulo the team size) or ``"dropout"`` (each
            directed link is dropped with probability ``dropout``, drawn anew every round).
        dropout: the chance a link is dropped under ``"dropout"``.
    """

    kind: TopologyName = "full"
    dropout: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, got {self.kind!r}")
        if not 0.0 <= self.dropout <= 1.0:
            raise ValueError(f"dropout must be in [0, 1], got {self.dropout}")

    @classmethod
    def from_any(cls, value: "Topology | str | dict | None") -> "Topology":
        """A Topology from itself, a name (``"ring"``, ``"dropout:0.3"``) or a dict of fields."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(**value)
        name, _, p = str(value).partition(":")
        return cls(name, float(p)) if p else cls(name)  # type: ignore[arg-type]

    def links(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """An ``n x n`` boolean matrix: ``[i, j]`` when agent ``i`` receives agent ``j``'s entries."""
        if self.kind == "full":
            sees = np.ones((n, n), dtype=bool)
        elif self.kind == "ring":
            sees = np.zeros((n, n), dtype=bool)
            for i in range(n):
                sees[i, (i - 1) % n] = sees[i, (i + 1) % n] = True
        else:
            sees = rng.random((n, n)) >= self.dropout
        np.fill_diagonal(sees, False)
        return sees
