"""The bundled corpus of real videos: renderable tasks whose scripts match what perception sees.

- :func:`generate_corpus` makes the tasks and per-video render plans (no espeak-ng or PyAV
  needed); :mod:`cvr_gym.data.render` turns the plans into files (``cvr-gym render``).
- :mod:`cvr_gym.data.corpus.readers` answers corpus questions from evidence text with fuzzy
  matching, so it works on OCR and speech-recognition output as well as on scripts.
"""

from cvr_gym.data.corpus.generator import Corpus, generate_corpus
from cvr_gym.data.corpus.plan import Scene, Shape, Sound, VideoPlan

__all__ = ["Corpus", "Scene", "Shape", "Sound", "VideoPlan", "generate_corpus"]
