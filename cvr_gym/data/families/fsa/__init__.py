"""FSA, functional step alignment: find the step in another video with the same purpose (interval).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.fsa import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
