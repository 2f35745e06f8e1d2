"""AUD, audio-dependent reasoning: the answer is only heard, never seen (single).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.aud import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
