"""SFT export: eval records -> chat transcripts that datasets and TRL's SFTTrainer load."""

from __future__ import annotations

import json

import pytest

from cvr_gym import ToolCall
from cvr_gym.cli import main as cli_main
from cvr_gym.evaluation.agents import timed_step
from cvr_gym.evaluation.episodes import EpisodeSpec
from cvr_gym.evaluation.records import EpisodeRecorder, record_line
from cvr_gym.train.sft_export import export_records, tool_call_text


def _episode(env, actions, index, task_id="car-colour"):
    """Play ``actions`` and return the record ``cvr-gym eval`` would write."""
    obs, info = env.reset(options={"task_id": task_id})
    rec = EpisodeRecorder(EpisodeSpec(index, task_id, info["family"], 0, 0, 0), "scripted", "scripted",
                          "CVRSim-v0", obs, context={"limits": info["limits"]})
    for action in actions:
        step = timed_step(env, action)
        rec.step(step)
        info = step.info
        if step.terminated or step.truncated:
            break
    return rec.finish(info)


@pytest.fixture
def results_file(tmp_path, sim_env):
    good = _episode(sim_env, [
        "I will look first.",  # invalid: no tool call
        ToolCall.listen(1, 0, 20, focus="car"),
        {"name": "observe", "arguments": {"targets": [{"video": 1, "start": 28, "end": 34, "num_frames": 4}]}},
        '<tool_call>{"name": "answer", "arguments": {"answer": "B"}}</tool_call>',
    ], 0)
    wrong = _episode(sim_env, [ToolCall.answer("A")], 1)
    unfinished = _episode(sim_env, [ToolCall.listen(1, 0, 5)], 2)
    path = tmp_path / "results.jsonl"
    path.write_text("".join(record_line(r) + "\n" for r in (good, wrong, unfinished)), encoding="utf-8")
    return path


def test_export_keeps_successful_episodes_as_chats(results_file, sim_env):
    records = [json.loads(line) for line in results_file.read_text().splitlines()]
    out = list(export_records(records, min_score=1.0))
    assert len(out) == 1
    msgs = out[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert msgs[0]["content"] == sim_env.unwrapped.system_prompt  # the env's prompt, as in GRPO rows
    assert msgs[1]["content"] == records[0]["observations"][0]
    assert msgs[2]["content"].startswith("<tool_call>\n") and '"listen"' in msgs[2]["content"]
    assert "look at that car" in msgs[3]["content"]
    assert json.loads(msgs[-1]["content"].split("\n")[1]) == {"name": "answer", "arguments": {"answer": "B"}}
    assert json.loads(out[0]["tools"]) == sim_env.unwrapped.tools
    # Lower the bar: the wrong answer comes too; the unanswered episode never does.
    assert [r["episode"] for r in export_records(records, min_score=0.0)] == [0, 1]
    kept = list(export_records(records, keep_invalid=True))[0]["messages"]
    assert kept[2] == {"role": "assistant", "content": "I will look first."} and kept[3]["role"] == "user"


def test_cli_output_loads_with_datasets(tmp_path, results_file):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "sft.jsonl"
    assert cli_main(["export-sft", str(results_file), "-o", str(out), "--min-score", "1.0"]) == 0
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert len(ds) == 1 and {"messages", "tools", "task_id", "score"} <= set(ds.column_names)
    assert ds[0]["messages"][2]["role"] == "assistant"


def test_text_matches_the_template_rendering_of_structured_calls(tmp_path):
    """A <tool_call> text turn renders exactly like the same call given as structured tool_calls."""
    pytest.importorskip("transformers")
    from tiny_models import tiny_qwen2
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_qwen2(tmp_path / "m"))
    call = ToolCall.listen(2, 1, 3).to_dict()
    as_text = [{"role": "user", "content": "q"}, {"role": "assistant", "content": tool_call_text([call])}]
    structured = [{"role": "user", "content": "q"},
                  {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": call}]}]
    assert tok.apply_chat_template(as_text, tokenize=False) == tok.apply_chat_template(structured, tokenize=False)


def test_sft_step_with_tiny_model(tmp_path, results_file):
    pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    from tiny_models import tiny_qwen2
    from trl import SFTConfig, SFTTrainer

    out = tmp_path / "sft.jsonl"
    cli_main(["export-sft", str(results_file), "-o", str(out), "--min-score", "0"])
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    args = SFTConfig(output_dir=str(tmp_path / "run"), max_steps=1, per_device_train_batch_size=2,
                     max_length=1024, use_cpu=True, report_to="none", save_strategy="no", logging_steps=1)
    trainer = SFTTrainer(model=str(tiny_qwen2(tmp_path / "m")), args=args, train_dataset=ds)
    trainer.train()
    assert trainer.state.global_step == 1
    assert trainer.state.log_history[0]["loss"] > 0
