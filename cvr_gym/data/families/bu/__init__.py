"""BU, behavioural understanding: in which videos do bystanders react in a given way (multi).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.bu import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
