"""Agent specs: registered names, the entry-point group, a user's own module:factory, bad checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cvr_gym.evaluation import AgentSpecError, available_agents, make_agent, needs_privileged_info, play_episode
from cvr_gym.evaluation.registry import ENTRY_POINT_GROUP

USER_AGENT = textwrap.dedent('''
    """A user's agent, written against the protocol only (no cvr_gym import)."""

    class AlwaysB:
        def __init__(self, frames=4):
            self.frames = int(frames)
            self.looked = False

        def reset(self, obs, info):          # no seed: still accepted
            self.looked = False

        def act(self, obs, info):
            if not self.looked:
                self.looked = True
                return {"name": "observe", "arguments": {"targets": [
                    {"video": 1, "start": 0, "end": 10, "num_frames": self.frames}]}}
            return '<tool_call>{"name": "answer", "arguments": {"answer": "B"}}</tool_call>'


    def make_agent(arg=None, seed=0):
        return AlwaysB(arg or 4)

    NOT_CALLABLE = 3
''')


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_cvr_agent.py").write_text(USER_AGENT, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_cvr_agent"
    sys.modules.pop("my_cvr_agent", None)


def test_reference_agents_come_from_the_entry_point_group():
    from importlib import metadata

    declared = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert {"random", "single-pass", "oracle", "heuristic", "checkpoint", "llm"} <= declared
    assert {"random", "heuristic", "oracle"} <= set(available_agents())
    assert needs_privileged_info("oracle") and not needs_privileged_info("heuristic")
    assert make_agent("single-pass:8").name == "single-pass:8"


def test_module_factory_spec_makes_the_users_agent(user_module, sim_env):
    agent = make_agent(f"{user_module}:make_agent:6")
    assert agent.frames == 6 and agent.name == f"{user_module}:make_agent:6"  # named after its spec
    info = play_episode(sim_env, agent, options={"task_index": 0}, seed=1)
    assert info["termination_reason"] == "answer" and info["totals"]["frames"] == 6
    assert make_agent(f"{user_module}:AlwaysB").frames == 4  # a class is a factory too


@pytest.mark.parametrize("spec, message", [
    ("no_such_agent", "unknown agent 'no_such_agent'"),
    ("my_cvr_agent:missing", "has no 'missing'"),
    ("my_cvr_agent:NOT_CALLABLE", "is not callable"),
])
def test_bad_specs_say_why_in_one_line(user_module, spec, message):
    with pytest.raises(AgentSpecError, match=message) as err:
        make_agent(spec)
    assert "\n" not in str(err.value)


def test_an_object_without_the_protocol_is_refused(user_module):
    with pytest.raises(AgentSpecError, match="has no reset"):
        make_agent("builtins:dict")


def _cli(*args: str, cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "cvr_gym.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_eval_scores_a_users_agent_found_on_pythonpath(tmp_path, mini_suite_path):
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "mymodule.py").write_text(USER_AGENT, encoding="utf-8")
    out = _cli("eval", "--agent", "mymodule:make_agent", "--suite", str(mini_suite_path), "--split", "all",
               "--episodes", "3", "--json", "--no-progress", cwd=tmp_path, extra_path=agents)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["agent"] == "mymodule:make_agent" and summary["episodes"] == 3
    assert summary["families"]["ALL"]["frames"] == pytest.approx(4.0)


def test_checkpoint_the_package_did_not_write_is_a_one_line_error(tmp_path, mini_suite_path):
    pytest.importorskip("torch")
    bogus = tmp_path / "not-a-checkpoint.pt"
    bogus.write_bytes(b"this is not a torch file")
    out = _cli("eval", "--agent", f"checkpoint:{bogus}", "--suite", str(mini_suite_path), "--split", "all",
               "--episodes", "1", "--no-progress", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error:") and "not a checkpoint written by cvr-gym train" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
