"""Importers: turn other projects' task files into cvr_gym suites (JSONL of :class:`~cvr_gym.Task`).

- :func:`import_agentcvr`: AgentCVR's synthesised tasks (scripts, for the simulator);
- :func:`import_crossvid`: the CrossVid benchmark's evaluation JSON (real videos, no scripts).

Each returns an :class:`ImportReport` (tasks, skipped records with reasons, warnings);
:func:`write_suite` writes the tasks and checks the file loads. The command line is
``cvr-gym import agentcvr|crossvid`` (:mod:`cvr_gym.cli.import_cmd`).
"""

from cvr_gym.importers.agentcvr import FAMILY_OF, GENERATOR_TYPES, AgentCVROptions, import_agentcvr
from cvr_gym.importers.common import ImportReport, Problem, RecordError
from cvr_gym.importers.crossvid import CROSSVID_TASKS, CrossVidOptions, import_crossvid, to_our_answer
from cvr_gym.importers.output import write_suite

__all__ = [
    "AgentCVROptions", "CROSSVID_TASKS", "CrossVidOptions", "FAMILY_OF", "GENERATOR_TYPES", "ImportReport",
    "Problem", "RecordError", "import_agentcvr", "import_crossvid", "to_our_answer", "write_suite",
]
