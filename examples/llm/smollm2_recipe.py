"""SFT -> KTO -> GRPO of SmolLM2-135M-Instruct (LoRA, compact prompts), measured after each stage.

Runs the stages of ``cvr-gym train --policy llm`` in one process and evaluates the base model and
each stage's output on the same CVRSim-v0 episodes as ``cvr-gym eval --episodes N`` (batched
greedy generation, :func:`baselines.llm_batched.evaluate_batched`). Writes ``OUT/stages.json``
(the table) and each stage's adapter under ``OUT/<stage>``. ``--time-*`` bound each stage's
training (the output is saved at the step that passes the bound). Works on a GPU (``--device
auto``) and, slowly, on a CPU. Example (the settings of the committed adapter)::

    python examples/llm/smollm2_recipe.py --sft-data sft.jsonl --kto-data kto.jsonl --out runs/smollm2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="smollm2")
    p.add_argument("--sft-data", nargs="+", required=True)
    p.add_argument("--kto-data", nargs="+", default=None)
    p.add_argument("--stages", default="sft,kto,grpo")
    p.add_argument("--out", default="runs/smollm2")
    p.add_argument("--device", default="auto")
    p.add_argument("--eval-episodes", type=int, default=20)
    p.add_argument("--eval-split", default="test")
    p.add_argument("--max-tokens", type=int, default=256, help="tokens per reply at evaluation")
    p.add_argument("--sft-epochs", type=float, default=2.0)
    p.add_argument("--sft-lr", type=float, default=2e-4)
    p.add_argument("--kto-steps", type=int, default=60)
    p.add_argument("--kto-lr", type=float, default=5e-5)
    p.add_argument("--grpo-steps", type=int, default=8)
    p.add_argument("--grpo-lr", type=float, default=1e-5)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=3072)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--time-sft", type=float, default=None)
    p.add_argument("--time-kto", type=float, default=None)
    p.add_argument("--time-grpo", type=float, default=None)
    p.add_argument("--base-eval", choices=("first", "last", "none"), default="first",
                   help="when to evaluate the untrained model (last: only if the deadline allows)")
    p.add_argument("--deadline", type=float, default=None,
                   help="seconds from the start after which no further stage or evaluation begins")
    args = p.parse_args(argv)

    from baselines.llm_batched import evaluate_batched
    from cvr_gym.train.llm import LLMTrainConfig, load_model, train

    t_start = time.perf_counter()

    def time_left() -> bool:
        ok = args.deadline is None or time.perf_counter() - t_start < args.deadline
        if not ok:
            print("deadline reached: stopping here", flush=True)
        return ok

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table: list[dict] = []

    def evaluate(label: str, model_ref: str, seconds: float | None = None) -> None:
        t0 = time.perf_counter()
        model, tokenizer = load_model(model_ref, device=args.device)
        model.eval()
        res = evaluate_batched(model, tokenizer, env_kwargs={"split": args.eval_split}, episodes=args.eval_episodes,
                               compact=True, max_tokens=args.max_tokens, name=label)
        row = {"stage": label, "train_s": seconds, "eval_s": round(time.perf_counter() - t0, 1),
               **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items() if k != "rows"}}
        table.append(row)
        (out / f"eval-{label}.json").write_text(json.dumps(res, indent=2))
        (out / "stages.json").write_text(json.dumps(table, indent=2))
        print(json.dumps(row), flush=True)
        del model

    if args.base_eval == "first":
        evaluate("base", args.model)
    start = args.model
    common = dict(lora=True, lora_r=args.lora_r, lora_alpha=2 * args.lora_r, prompt_style="compact",
                  device=args.device, batch_size=args.batch_size, max_length=args.max_length, logging_steps=5)
    for stage in [s for s in args.stages.split(",") if s]:
        if not time_left():
            break
        if stage == "sft":
            config = LLMTrainConfig(model=start, stage="sft", sft_data=args.sft_data, steps=0, epochs=args.sft_epochs,
                                    learning_rate=args.sft_lr, time_limit_s=args.time_sft, out=str(out / "sft"), **common)
        elif stage == "kto":
            config = LLMTrainConfig(model=start, stage="kto", kto_data=args.kto_data or [], steps=args.kto_steps,
                                    learning_rate=args.kto_lr, beta=0.1, time_limit_s=args.time_kto,
                                    out=str(out / "kto"), **common)
        else:
            config = LLMTrainConfig(model=start, stage="grpo", steps=args.grpo_steps, learning_rate=args.grpo_lr,
                                    group_size=8, prompts_per_step=2, max_turns=6, max_completion_length=1536,
                                    max_tokens_per_turn=args.max_tokens, temperature=1.0,
                                    time_limit_s=args.time_grpo, out=str(out / "grpo"),
                                    **{**common, "batch_size": 1})
        t0 = time.perf_counter()
        summary = train(config)
        seconds = round(time.perf_counter() - t0, 1)
        print(json.dumps({k: v for k, v in summary.items() if k != "config"}, default=str), flush=True)
        start = config.out
        if not time_left():
            break
        evaluate(stage, config.out, seconds)
    if args.base_eval == "last" and time_left():
        evaluate("base", args.model)
    print(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
