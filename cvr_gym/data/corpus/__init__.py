"""The bundled corpus of real videos: renderable tasks whose scripts match what perception sees.

The machinery shared by every family's corpus builder (``cvr_gym/data/families/<code>/corpus.py``):

- :func:`generate_corpus` (:mod:`~cvr_gym.data.corpus.builder`) makes the tasks and per-video
  render plans (no espeak-ng or PyAV needed); :mod:`cvr_gym.data.render` turns the plans into
  files (``cvr-gym render``).
- :mod:`~cvr_gym.data.corpus.groups`, :mod:`~cvr_gym.data.corpus.layout` and
  :mod:`~cvr_gym.data.corpus.plan`: groups of videos, cards on screen, render plans.
- :mod:`~cvr_gym.data.corpus.reading` and :mod:`~cvr_gym.data.corpus.match`: the base of the
  corpus readers, which answer from evidence text with fuzzy matching, so they work on OCR and
  speech-recognition output as well as on scripts.
"""

from cvr_gym.data.corpus.builder import Corpus, generate_corpus
from cvr_gym.data.corpus.plan import Scene, Shape, Sound, VideoPlan

__all__ = ["Corpus", "Scene", "Shape", "Sound", "VideoPlan", "generate_corpus"]
