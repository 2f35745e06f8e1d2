"""PEA, procedural error analysis: what goes wrong in the one video where a step fails (single).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.pea import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
