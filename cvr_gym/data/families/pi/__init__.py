"""PI, plot inference: combine two clues from two different videos into a conclusion (single).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.pi import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
