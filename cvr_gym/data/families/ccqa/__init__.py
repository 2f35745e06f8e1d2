"""CCQA, comparative culinary free-form QA: what each cook uses for the same step (free text).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.ccqa import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
