"""MSR, multi-view spatial reasoning: where an object is from the *other* camera's viewpoint (single).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.msr import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
