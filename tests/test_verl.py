"""verl: CVRAgentLoop plays the env with a tiny random model behind a scripted server manager.

verl pins transformers below this package's stack, so these tests run in the separate verl
environment that ``.ci/run`` creates (``.venv-engines``); elsewhere they are skipped.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import gymnasium as gym
import pytest

pytest.importorskip("verl")
pytest.importorskip("verl.experimental.agent_loop")

import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from verl.experimental.agent_loop.agent_loop import DictConfigWrap, _agent_loop_registry  # noqa: E402
from verl.utils.dataset.rl_dataset import RLHFDataset  # noqa: E402
from verl.workers.rollout.replica import TokenOutput  # noqa: E402

import cvr_gym  # noqa: E402,F401
from cvr_gym.integrations.verl import CVRAgentLoop  # noqa: E402
from cvr_gym.integrations.verl_data import write_verl_dataset  # noqa: E402

ENV_KWARGS = {"suite": "default", "split": "train"}
SCRIPT = [
    None,  # the tiny random model's own turn: gibberish, so an invalid action (error observation)
    '<tool_call>\n{"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 30, '
    '"num_frames": 8}]}}\n</tool_call>',
    '<tool_call>\n{"name": "listen", "arguments": {"video": 2, "start": 0, "end": 20}}\n</tool_call>',
    '<tool_call>\n{"name": "answer", "arguments": {"answer": "B"}}\n</tool_call>',
    "never reached: the episode ends on answer",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_models import tiny_qwen2

    return tiny_qwen2(tmp_path_factory.mktemp("qwen2"))


class ScriptedServer:
    """verl's server manager: turn 1 from the tiny model (greedy), then the scripted turns."""

    def __init__(self, model_dir: Path, tokenizer):
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        self.tokenizer = tokenizer
        self.turn = 0
        self.prompts: list[list[int]] = []
        self.outputs: list[list[int]] = []

    async def generate(self, request_id, *, prompt_ids, sampling_params, **kwargs) -> TokenOutput:
        self.prompts.append(list(prompt_ids))
        text = SCRIPT[self.turn]
        self.turn += 1
        if text is None:
            with torch.no_grad():
                out = self.model.generate(torch.tensor([prompt_ids]), max_new_tokens=12, do_sample=False)
            ids = out[0, len(prompt_ids):].tolist()
        else:
            ids = self.tokenizer.encode(text + "<|im_end|>", add_special_tokens=False)
        self.outputs.append(ids)
        return TokenOutput(token_ids=ids, log_probs=[-0.5] * len(ids), stop_reason="completed")


def _config(response_length=4096):
    return OmegaConf.create({
        "actor_rollout_ref": {"rollout": {"prompt_length": 4096, "response_length": response_length,
                                          "multi_turn": {"format": "hermes"}}},
        "data": {"apply_chat_template_kwargs": {}, "max_prompt_length": 4096, "return_raw_chat": True},
    })


def _loop(model_dir, config=None, env_id="CVRSim-v0", env_kwargs=ENV_KWARGS):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    config = config or _config()
    server = ScriptedServer(model_dir, tokenizer)
    loop = CVRAgentLoop(trainer_config=DictConfigWrap(config), server_manager=server, tokenizer=tokenizer,
                        processor=None, dataset_cls=RLHFDataset, data_config=DictConfigWrap(config.data),
                        hf_model_type="qwen2", env_id=env_id, env_kwargs=env_kwargs)
    return loop, server, tokenizer


def _play(model_dir, config=None, row=None, **env):
    """Build the loop inside the event loop (verl binds it to the running loop) and run one rollout."""

    async def go():
        loop, server, tokenizer = _loop(model_dir, config, **env)
        return await loop.run({"temperature": 1.0}, **(row or ROW)), server, tokenizer

    return asyncio.run(go())


ROW = {"extra_info": {"task_id": "s0-train-BU-00001", "group_id": "s0-train-BU-00001#0"}}


def _replay(texts):
    """The same turns played straight on the env: its return and last info."""
    env = gym.make("CVRSim-v0", disable_env_checker=True, **ENV_KWARGS)
    env.reset(options={"task_id": ROW["extra_info"]["task_id"], "group_id": ROW["extra_info"]["group_id"]})
    ret, observations = 0.0, []
    for text in texts:
        obs, reward, term, trunc, info = env.step(text)
        ret += reward
        observations.append(obs)
        if term or trunc:
            break
    return ret, info, observations


def test_agent_loop_plays_an_episode_to_the_end(model_dir):
    out, server, tokenizer = _play(model_dir)

    assert server.turn == 4  # stopped when the env ended the episode on answer
    texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in server.outputs]
    ret, info, observations = _replay(texts)
    assert info["termination_reason"] is None or info.get("score") is not None
    assert out.reward_score == pytest.approx(ret)
    extra = out.extra_fields["reward_extra_info"]
    for k, v in info["episode_reward_components"].items():
        assert extra[f"reward_{k}"] == pytest.approx(v)
    assert extra["episode_ended"] == 1.0 and extra["score"] == pytest.approx(info["score"])
    assert extra["frames"] == info["totals"]["frames"] == 8
    assert out.extra_fields["cvr_gym"]["task_id"] == ROW["extra_info"]["task_id"]

    # Loss mask: 1 exactly on the model's tokens, 0 on the observations between them.
    assert len(out.response_ids) == len(out.response_mask)
    assert sum(out.response_mask) == sum(len(ids) for ids in server.outputs)
    spans, current = [], []
    for tok, m in zip(out.response_ids, out.response_mask):
        if m == 0:
            current.append(tok)
        elif current:
            spans.append(current)
            current = []
    gaps = [tokenizer.decode(s) for s in spans]
    assert len(gaps) == 3 and all(obs.split("\n")[0] in gap for obs, gap in zip(observations, gaps))
    assert "<tool_response>" in gaps[1] or "tool" in gaps[1]  # a valid call's result is a tool message
    assert out.response_logprobs is not None and len(out.response_logprobs) == len(out.response_ids)

    # The prompt is the env's system prompt and reset observation, through the chat template.
    prompt = tokenizer.decode(out.prompt_ids)
    assert "Question:" in prompt and "<|im_start|>system" in prompt
    assert server.prompts[0] == out.prompt_ids


def test_rollouts_of_a_group_start_alike(model_dir):
    first, second = _play(model_dir)[0], _play(model_dir)[0]
    assert first.prompt_ids == second.prompt_ids
    assert first.response_ids == second.response_ids and first.reward_score == second.reward_score


def test_response_budget_stops_the_episode(model_dir):
    out, server, _ = _play(model_dir, _config(response_length=60))
    assert len(out.response_ids) <= 60 and server.turn < 4
    assert out.extra_fields["reward_extra_info"]["episode_ended"] == 0.0


def test_export_verl_rows_load_in_verl_and_the_yaml_registers_the_loop(model_dir, tmp_path):
    import hydra

    assert _agent_loop_registry["cvr_agent"]["_target_"] == "cvr_gym.integrations.verl.CVRAgentLoop"
    write_verl_dataset(tmp_path, "CVRSim-v0", ENV_KWARGS, repeats=2, max_tasks=3)  # what export-verl writes
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    data = RLHFDataset(str(tmp_path / "train.parquet"), tokenizer,
                       OmegaConf.create({"max_prompt_length": 4096, "return_raw_chat": True,
                                         "cache_dir": str(tmp_path / "cache")}))
    assert len(data) == 6
    row = data[1]
    assert row["agent_name"] == "cvr_agent" and row["extra_info"]["task_id"] == ROW["extra_info"]["task_id"]
    assert row["extra_info"]["group_id"] == ROW["extra_info"]["group_id"]

    (spec,) = OmegaConf.load(tmp_path / "agent_loop.yaml")
    assert spec.name == "cvr_agent"
    config = _config()

    async def go():  # as verl's worker builds a loop: hydra.instantiate on the registered config
        loop = hydra.utils.instantiate(
            {k: v for k, v in spec.items() if k != "name"}, trainer_config=DictConfigWrap(config),
            server_manager=ScriptedServer(model_dir, tokenizer), tokenizer=tokenizer, processor=None,
            hf_model_type="qwen2", dataset_cls=RLHFDataset, data_config=DictConfigWrap(config.data), tools=None)
        assert isinstance(loop, CVRAgentLoop) and loop.env_kwargs == ENV_KWARGS
        return await loop.run({}, **{k: row[k] for k in ("extra_info", "raw_prompt") if k in row})

    out = asyncio.run(go())
    assert out.reward_score is not None and json.dumps(out.extra_fields["reward_extra_info"])


def test_stock_tool_schema_model_cannot_carry_our_tools():
    """Why CVRAgentLoop and not verl's tool_agent loop (docs): verl's tool-schema model drops the
    nested ``items`` of observe's targets and rejects the ``anyOf`` of answer."""
    from pydantic import ValidationError
    from verl.tools.schemas import OpenAIFunctionToolSchema

    tools = {t["function"]["name"]: t for t in gym.make("CVRSim-v0").unwrapped.tools}
    observe = OpenAIFunctionToolSchema.model_validate(tools["observe"]).model_dump(exclude_none=True)
    assert "items" in tools["observe"]["function"]["parameters"]["properties"]["targets"]
    assert observe["function"]["parameters"]["properties"]["targets"] == {"type": "array"}
    assert "anyOf" in json.dumps(tools["answer"]["function"]["parameters"])
    with pytest.raises(ValidationError):
        OpenAIFunctionToolSchema.model_validate(tools["answer"])


@pytest.mark.real
def test_agent_loop_plays_the_real_env_with_one_env_per_worker(model_dir):
    """In verl's environment the loop plays CVRReal-v0 too (PyAV decoding, offline OCR and speech
    recognition); rollouts of one worker process reuse its env, so the models load once."""
    from cvr_gym.integrations.verl import ENV_POOL

    kwargs = {"suite": "corpus", "split": "test"}
    row = {"extra_info": {"task_id": "corpus-s0-NC-00-0", "group_id": "corpus-s0-NC-00-0#0"}}
    first, server, _ = _play(model_dir, row=row, env_id="CVRReal-v0", env_kwargs=kwargs)
    pooled = list(ENV_POOL._idle[ENV_POOL.key("CVRReal-v0", kwargs)])
    second = _play(model_dir, row=row, env_id="CVRReal-v0", env_kwargs=kwargs)[0]
    assert server.turn == 4 and first.extra_fields["reward_extra_info"]["episode_ended"] == 1.0
    assert first.extra_fields["cvr_gym"]["task_id"] == "corpus-s0-NC-00-0"
    assert first.extra_fields["reward_extra_info"]["frames"] > 0
    assert len(pooled) == 1 and list(ENV_POOL._idle[ENV_POOL.key("CVRReal-v0", kwargs)]) == pooled
    assert second.reward_score == first.reward_score and second.response_ids == first.response_ids
