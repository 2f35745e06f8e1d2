"""LLM stages: KTO export, the compact prompt style, and SFT -> KTO -> GRPO chained on a tiny model."""

from __future__ import annotations

import argparse
import json

import pytest

from cvr_gym import ToolCall
from cvr_gym.cli import main as cli_main
from cvr_gym.core.formatting import terse_observation
from cvr_gym.core.tools import compact_system_prompt
from cvr_gym.evaluation.records import record_line
from cvr_gym.train.kto_export import episode_label, export_kto_records
from cvr_gym.train.sft_export import export_records
from test_sft_export import _episode


@pytest.fixture
def results_file(tmp_path, sim_env):
    good = _episode(sim_env, [
        "I will look first.",  # invalid: no tool call
        ToolCall.listen(1, 0, 20, focus="car"),
        {"name": "observe", "arguments": {"targets": [{"video": 1, "start": 28, "end": 34, "num_frames": 4}]}},
        '<tool_call>{"name": "answer", "arguments": {"answer": "B"}}</tool_call>',
    ], 0)
    wrong = _episode(sim_env, [ToolCall.listen(1, 0, 5), ToolCall.answer("A")], 1)
    guessed = _episode(sim_env, [ToolCall.answer("B")], 2)  # right, but without looking
    unfinished = _episode(sim_env, [ToolCall.listen(1, 0, 5)], 3)
    path = tmp_path / "results.jsonl"
    path.write_text("".join(record_line(r) + "\n" for r in (good, wrong, guessed, unfinished)), encoding="utf-8")
    return path


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_kto_labels_successes_failures_and_guesses(results_file):
    records = _records(results_file)
    assert [episode_label(r) for r in records] == [(True, "success"), (False, "failed"), (False, "guessed"),
                                                  (False, "no answer")]
    rows = list(export_kto_records(records))
    by_episode = {}
    for row in rows:
        by_episode.setdefault(row["episode"], []).append(row)
    # Desirable episodes keep only their valid turns; undesirable ones keep what the agent wrote.
    assert [r["turn"] for r in by_episode[0]] == [0, 1, 2] and all(r["label"] for r in by_episode[0])
    assert '"listen"' in by_episode[0][0]["completion"][0]["content"]
    assert len(by_episode[1]) == 2 and not any(r["label"] for r in by_episode[1])
    assert by_episode[2][0]["reason"] == "guessed" and len(by_episode[2]) == 1
    last = by_episode[0][-1]
    assert [m["role"] for m in last["prompt"]] == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert last["completion"] == [{"role": "assistant", "content": '<tool_call>\n{"name": "answer", "arguments": '
                                                                   '{"answer": "B"}}\n</tool_call>'}]


def test_export_kto_cli_loads_with_datasets_with_both_labels(tmp_path, results_file, capsys):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "kto.jsonl"
    assert cli_main(["export-kto", str(results_file), "-o", str(out), "--prompt-style", "compact"]) == 0
    assert "3 desirable and 4 undesirable turns from 4 of 4 episodes" in capsys.readouterr().out
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert {"prompt", "completion", "label"} <= set(ds.column_names)
    assert sorted(set(ds["label"])) == [False, True]
    assert ds[0]["prompt"][0]["content"].startswith("Answer a question about videos")


def test_terse_observation_cuts_evidence_and_focus_echo():
    text = ('observe video 1 [0.0-60.0 s], 8 frames, focus "the car"\n'
            "  1.0 s  visual: a\n  2.0 s  visual: b\n  3.0 s  visual: c\n  note: budget low\n"
            "listen video 1 [0.0-60.0 s]\n  (nothing found)\nStatus: step 1/12, frames 8/256 used.")
    assert terse_observation(text, max_evidence=2) == (
        "observe video 1 [0.0-60.0 s], 8 frames\n  1.0 s  visual: a\n  2.0 s  visual: b\n  note: budget low\n"
        "listen video 1 [0.0-60.0 s]\n  (nothing found)\nStatus: step 1/12, frames 8/256 used.")


def test_compact_export_is_shorter_and_has_no_tool_schemas(results_file):
    records = _records(results_file)
    full = list(export_records(records))[0]
    compact = list(export_records(records, prompt_style="compact", max_evidence=1))[0]
    assert "tools" in full and "tools" not in compact
    assert compact["messages"][0]["content"] == compact_system_prompt(12, 256)
    # The full style's system turn also renders the tool schemas (JSON) from the tools column.
    assert len(compact["messages"][0]["content"]) < (len(full["messages"][0]["content"]) + len(full["tools"])) / 3
    assert [m["role"] for m in compact["messages"]] == [m["role"] for m in full["messages"]]


def test_llm_agent_compact_mode_uses_the_short_prompt(sim_env):
    from baselines.llm_agent import LLMAgent

    class Scripted:
        text_calls_are_tool_calls = True

        def __init__(self):
            self.seen = []

        def chat(self, messages, tools):
            self.seen.append((list(messages), tools))
            return {"role": "assistant", "content": '<tool_call>{"name": "listen", "arguments": '
                                                    '{"video": 1, "start": 0, "end": 20}}</tool_call>'}

    backend = Scripted()
    agent = LLMAgent(backend, compact=True, max_evidence=1, action_space=sim_env.action_space)
    obs, info = sim_env.reset(options={"task_id": "car-colour"})
    agent.reset(obs, info)
    obs, *_, info = sim_env.step(agent.act(obs, info))
    agent.act(obs, info)
    messages, tools = backend.seen[-1]
    assert tools == [] and messages[0]["content"] == compact_system_prompt(12, 256)
    assert messages[-1] == {"role": "tool", "content": terse_observation(obs, 1)}


def test_stage_flags_come_from_the_config():
    from cvr_gym.cli.train_llm import add_llm_arguments, llm_config

    parser = argparse.ArgumentParser()
    add_llm_arguments(parser)
    args = parser.parse_args(["--stage", "sft,kto", "--sft-data", "a.jsonl", "b.jsonl", "--lora", "--prompt-style",
                              "compact", "--max-tokens-per-turn", "64", "--use-vllm", "--vllm-mode", "server"])
    config = llm_config(args)
    assert (config.stage, config.sft_data, config.lora, config.prompt_style) == ("sft", ["a.jsonl", "b.jsonl"],
                                                                                 True, "compact")
    gen = config.generation_kwargs()
    assert gen["use_vllm"] and gen["vllm_mode"] == "server" and gen["generation_kwargs"] == {"max_tokens": 64}
    with pytest.raises(ValueError):
        llm_config(parser.parse_args(["--stage", "sft,dpo"]))


def test_sft_kto_grpo_chain_on_a_tiny_model(tmp_path, results_file, mini_suite_path):
    """Each stage starts from the last one's output; the final adapter loads with the chain merged."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("trl")
    pytest.importorskip("peft")
    from tiny_models import tiny_qwen2

    from cvr_gym.train.llm import LLMTrainConfig, load_model, train_stages
    from cvr_gym.train.llm.models import read_stage_meta

    torch.set_num_threads(1)
    sft, kto = tmp_path / "sft.jsonl", tmp_path / "kto.jsonl"
    assert cli_main(["export-sft", str(results_file), "-o", str(sft), "--min-score", "0", "--prompt-style",
                     "compact", "--max-evidence", "1"]) == 0
    assert cli_main(["export-kto", str(results_file), "-o", str(kto), "--prompt-style", "compact",
                     "--max-evidence", "1"]) == 0
    config = LLMTrainConfig(model=str(tiny_qwen2(tmp_path / "tiny")), sft_data=[str(sft)], kto_data=[str(kto)],
                            suite=str(mini_suite_path), split=None, max_tasks=1, prompt_style="compact",
                            lora=True, lora_r=4, lora_alpha=8, steps=1, batch_size=2, max_length=4096,
                            group_size=2, max_turns=1, max_completion_length=16, device="cpu",
                            out=str(tmp_path / "run"), learning_rate=1e-3)
    summaries = train_stages(config, ["sft", "kto", "grpo"])
    assert [s["stage"] for s in summaries] == ["sft", "kto", "grpo"]
    assert all(s["steps"] == 1 for s in summaries)
    assert summaries[0]["last_log"]["loss"] > 0
    assert summaries[2]["env_counts"]["episodes"] == 2
    run = tmp_path / "run"
    assert read_stage_meta(run / "kto")["base"] == "../sft" and read_stage_meta(run / "grpo")["base"] == "../kto"
    assert read_stage_meta(run / "sft")["prompt_style"] == "compact"
    model, tokenizer = load_model(str(run / "grpo"), device="cpu")
    assert not hasattr(model, "peft_config")  # merged: a plain model
    assert "{% generation %}" not in tokenizer.chat_template  # the inference template was saved
    from transformers import AutoTokenizer

    saved = AutoTokenizer.from_pretrained(run / "grpo").chat_template
    assert "set tools = none" not in saved and "<tools>" in saved  # the compact rollouts' template was not


@pytest.mark.parametrize("prompt_style", ["compact", "full"])
def test_grpo_prompts_render_like_the_sft_transcripts(tmp_path, results_file, mini_suite_path, prompt_style):
    """TRL hands the env's tools to the chat template in GRPO rollouts. Compact prompts must still
    render as the compact SFT transcripts (no tool schemas: a model trained on those copies the
    schemas instead of calling a tool), and the model's tool calls must still parse."""
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    from tiny_models import tiny_qwen2

    from cvr_gym.train.llm import LLMTrainConfig
    from cvr_gym.train.llm.env_adapter import CVRToolEnv
    from cvr_gym.train.llm.stages import build_trainer

    config = LLMTrainConfig(model=str(tiny_qwen2(tmp_path / "tiny")), suite=str(mini_suite_path), split=None,
                            max_tasks=1, prompt_style=prompt_style, group_size=2, max_turns=1,
                            max_completion_length=16, device="cpu", out=str(tmp_path / "run"))
    trainer = build_trainer(config)
    tokenizer = trainer.processing_class
    env = CVRToolEnv(env=trainer.cvr_env_factory().env)
    tools = [env.observe, env.listen, env.answer]
    prompt = trainer.train_dataset[0]["prompt"]
    with_tools = tokenizer.apply_chat_template(prompt, tools=tools, add_generation_prompt=True, tokenize=False)
    if prompt_style == "full":
        assert "<tools>" in with_tools and '"name": "observe"' in with_tools
        return
    assert with_tools == tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    assert "<tools>" not in with_tools and compact_system_prompt(12, 256) in with_tools
    sft = next(export_records(_records(results_file), min_score=0, prompt_style="compact"))["messages"]
    assert any(m["role"] == "tool" for m in sft)
    assert (tokenizer.apply_chat_template(sft, tools=tools, tokenize=False)
            == tokenizer.apply_chat_template(sft, tokenize=False))
    prefix = tokenizer.apply_chat_template(prompt, tools=tools, add_generation_prompt=True, return_dict=False)
    reply = tokenizer('<tool_call>\n{"name": "answer", "arguments": {"answer": "B"}}\n</tool_call><|im_end|>')
    parsed = tokenizer.parse_response(reply["input_ids"], prefix=prefix)
    assert parsed["tool_calls"][0]["function"] == {"name": "answer", "arguments": {"answer": "B"}}


def test_the_committed_adapter_is_found_by_name():
    from cvr_gym.train.llm.models import read_stage_meta, resolve_model_path

    path = resolve_model_path("smollm2-sft")
    meta = read_stage_meta(path)
    assert path.endswith("examples/llm/smollm2-sft")
    assert meta["base"] == "smollm2" and meta["prompt_style"] == "compact" and meta["stage"] == "sft"


def test_summary_valid_rate_counts_rejected_actions(results_file):
    from cvr_gym.evaluation.summary import summarise

    records = _records(results_file)
    # 4 + 2 + 1 + 1 actions; only the first episode's opening text was rejected.
    assert summarise(records)["ALL"]["valid_rate"] == pytest.approx(1 - 1 / 8)
    assert summarise(records[1:])["ALL"]["valid_rate"] == 1.0


def test_each_accelerate_process_loads_on_its_own_gpu(monkeypatch):
    from cvr_gym.train.llm.models import process_device

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert process_device("cuda") == "cuda" and process_device("cpu") == "cpu"
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert process_device("cuda") == "cuda:3" and process_device("cuda:1") == "cuda:1" and process_device("cpu") == "cpu"
