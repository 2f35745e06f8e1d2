"""MOC, multi-view object counting: how many objects of one colour across all videos (count).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.moc import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
