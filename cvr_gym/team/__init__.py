"""Teams of masters with a shared memory (VideoChat-M1's setting) as a PettingZoo parallel env.

``cvr_gym.team.parallel_env("CVRSim-v0", num_agents=4)`` builds :class:`CVRTeamEnv`: every
agent is a master of the single-agent env over the same task, the agents act in rounds, and
what each one called and got back is shared through the team memory as the topology allows.

- :mod:`~cvr_gym.team.env`: the parallel env.
- :mod:`~cvr_gym.team.memory`: the memory and its text section.
- :mod:`~cvr_gym.team.topology`: full, ring and dropout topologies.
- :mod:`~cvr_gym.team.vote`: majority vote or summariser.
- :mod:`~cvr_gym.team.rewards`: team outcome and collaboration terms.
- :mod:`~cvr_gym.team.play`: playing and evaluating teams of agents.
"""

from cvr_gym.team.env import ALL_COMPONENTS, CVRTeamEnv, parallel_env
from cvr_gym.team.memory import MemoryEntry, TeamMemory, with_memory
from cvr_gym.team.rewards import TeamRewardConfig
from cvr_gym.team.topology import TOPOLOGIES, Topology
from cvr_gym.team.vote import TeamAnswer, team_answer

__all__ = ["ALL_COMPONENTS", "CVRTeamEnv", "MemoryEntry", "TOPOLOGIES", "TeamAnswer", "TeamMemory",
           "TeamRewardConfig", "Topology", "parallel_env", "team_answer", "with_memory"]
