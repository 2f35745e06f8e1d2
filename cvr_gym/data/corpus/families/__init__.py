"""One module per corpus family: ``CODE``, ``MARK`` (a phrase every question of the family
contains, which its reader recognises) and ``build(rng, prefix) -> Group``."""

from __future__ import annotations

from types import ModuleType

from cvr_gym.core.tasks import FAMILIES
from cvr_gym.data.corpus.families import aud, bu, cc, ccqa, fsa, moc, msr, nc, pea, pi, pss

#: Family code -> builder module, in the order of :data:`cvr_gym.core.tasks.FAMILIES`.
BUILDERS: dict[str, ModuleType] = {
    m.CODE: m for m in sorted((bu, nc, cc, pea, pi, fsa, pss, msr, moc, ccqa, aud),
                              key=lambda m: list(FAMILIES).index(m.CODE))
}

__all__ = ["BUILDERS"]
