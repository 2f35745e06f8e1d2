"""cvr_gym: Gymnasium environments for agents that reason across several videos.

``import cvr_gym`` registers ``CVRSim-v0`` (script simulator) and ``CVRReal-v0`` (real videos).
"""

from gymnasium.envs.registration import WrapperSpec, register, registry

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.evidence import Evidence, ScriptItem
from cvr_gym.core.limits import Limits
from cvr_gym.core.parsing import ActionParseError, parse_action
from cvr_gym.core.rewards import RewardConfig
from cvr_gym.core.scoring import ScoringConfig, score_answer
from cvr_gym.core.suites import Suite, SuiteError, load_suite
from cvr_gym.core.tasks import FAMILIES, Task, VideoSpec
from cvr_gym.core.view import TaskView

__version__ = "0.1.0"

# gym.make applies it after any TimeLimit, so the prompt states the effective step limit.
_SYNC_STEP_LIMIT = WrapperSpec("SyncStepLimit", "cvr_gym.envs.step_limit:SyncStepLimit", {})

if "CVRSim-v0" not in registry:
    register(id="CVRSim-v0", entry_point="cvr_gym.envs:make_sim_env", additional_wrappers=(_SYNC_STEP_LIMIT,))
if "CVRReal-v0" not in registry:
    register(id="CVRReal-v0", entry_point="cvr_gym.envs.real:make_real_env", additional_wrappers=(_SYNC_STEP_LIMIT,))
if "CVRRemote-v0" not in registry:  # an env served by `cvr-gym serve` (needs cvr-gym[openenv])
    register(id="CVRRemote-v0", entry_point="cvr_gym.integrations.openenv:RemoteCVREnv")

__all__ = [
    "ActionParseError", "Evidence", "FAMILIES", "Limits", "RewardConfig", "ScoringConfig", "ScriptItem", "Suite",
    "SuiteError", "Task", "TaskView", "ToolCall", "VideoSpec", "load_suite", "parse_action", "score_answer",
]
