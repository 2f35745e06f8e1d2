"""One module per task family: each defines ``CODE``, ``ANSWER_TYPE``, ``generate`` and ``read``.

``generate(rng, difficulty) -> Draft`` writes a task with :class:`random.Random` only, so the
same seed gives the same task everywhere. ``read(view, evidence) -> answer`` is the family's
reader (see :func:`cvr_gym.data.readers.read_answer`).
"""

from __future__ import annotations

from types import ModuleType

from cvr_gym.core.tasks import FAMILIES
from cvr_gym.data.families import aud, bu, cc, ccqa, fsa, moc, msr, nc, pea, pi, pss

#: Family code -> module, in the order of :data:`cvr_gym.core.tasks.FAMILIES`.
FAMILY_MODULES: dict[str, ModuleType] = {
    m.CODE: m
    for m in sorted((bu, nc, cc, pea, pi, fsa, pss, msr, moc, ccqa, aud), key=lambda m: list(FAMILIES).index(m.CODE))
}

__all__ = ["FAMILY_MODULES"]
