"""See where the agent looked: episode timelines, an HTML episode viewer and a PNG timeline.

- :mod:`~cvr_gym.evaluation.viewer.model`: episodes read from results files and comparisons.
- :mod:`~cvr_gym.evaluation.viewer.timeline`: per-video timelines and the look distance.
- :mod:`~cvr_gym.evaluation.viewer.svg`, :mod:`~cvr_gym.evaluation.viewer.page`: the HTML page.
- :mod:`~cvr_gym.evaluation.viewer.png`: the same timelines drawn with matplotlib.
"""

from cvr_gym.evaluation.viewer.model import (
           EpisodeView,
           Run,
           TaskLookup,
           load_runs,
           select,
)
from cvr_gym.evaluation.viewer.page import align, render_page
from cvr_gym.evaluation.viewer.timeline import (
           LookDistance,
           episode_timelines,
           look_distance,
)

__all__ = ["EpisodeView", "LookDistance", "Run", "TaskLookup", "align", "episode_timelines", "load_runs",
           "look_distance", "render_page", "select"]
