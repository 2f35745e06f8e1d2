"""CC, culinary comparison: which video's cook does a step with a given ingredient (single choice).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.cc import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
