"""The task families, one package each: ``cvr_gym/data/families/<code>/``.

Each family package holds the family's two worlds side by side:

- ``procedural.py``: the script-only generator and its reader. ``CODE``, ``ANSWER_TYPE``,
  ``generate(rng, difficulty) -> Draft`` (with :class:`random.Random` only, so the same seed gives
  the same task everywhere) and ``read(view, evidence) -> answer``, which reads the structured
  attributes generated scripts carry.
- ``corpus.py``: the renderable-corpus builder and its reader. ``CODE``, ``MARK`` (a phrase every
  corpus question of the family contains), ``build(rng, prefix) -> Group`` and ``READER``, which
  reads what real perception returns (OCR lines, transcripts), fuzzily.

:func:`cvr_gym.data.readers.read_answer` picks the right reader for a task.
"""

from __future__ import annotations

from types import ModuleType

from cvr_gym.core.tasks import FAMILIES
from cvr_gym.data.families import aud, bu, cc, ccqa, fsa, moc, msr, nc, pea, pi, pss

_PACKAGES = sorted((bu, nc, cc, pea, pi, fsa, pss, msr, moc, ccqa, aud), key=lambda m: list(FAMILIES).index(m.CODE))

#: Family code -> generator-and-reader module (``<code>/procedural.py``), in the order of FAMILIES.
FAMILY_MODULES: dict[str, ModuleType] = {p.CODE: p.procedural for p in _PACKAGES}
#: Family code -> corpus builder-and-reader module (``<code>/corpus.py``), in the order of FAMILIES.
CORPUS_BUILDERS: dict[str, ModuleType] = {p.CODE: p.corpus for p in _PACKAGES}
#: The corpus readers, one per family.
CORPUS_READERS = tuple(p.corpus.READER for p in _PACKAGES)

__all__ = ["CORPUS_BUILDERS", "CORPUS_READERS", "FAMILY_MODULES"]
