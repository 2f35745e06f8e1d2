"""PSS, procedural step sequencing: order prep steps spread over consecutive videos (order answer).

``procedural.py``: the script-only generator and its reader; ``corpus.py``: the renderable-corpus
builder and its fuzzy reader.
"""

from cvr_gym.data.families.pss import corpus, procedural

CODE = procedural.CODE

__all__ = ["CODE", "corpus", "procedural"]
