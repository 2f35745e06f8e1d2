"""NC, narrative comprehension: who hid what, and where, across episodes of a story (single).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.nc import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
