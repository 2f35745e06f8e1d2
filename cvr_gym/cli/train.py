"""``cvr-gym train``: train a policy with GRPO (``--policy mlp``; ``--policy llm`` via TRL)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

LLM_MODULE = "cvr_gym.train.llm"


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a policy with GRPO in the simulator (mlp, or an LLM with --policy llm)",
        description=("Train a policy with group-relative policy optimisation. --policy mlp trains a small "
                     "MLP over the classic-RL wrappers (numbered tool calls, vector observations) with "
                     "cvr_gym.train.GRPOTrainer; --policy llm hands over to the TRL trainer in "
                     f"{LLM_MODULE}. The mlp defaults are the settings of the reported demonstration: "
                     "observe whole videos at 8/16/32/64 frames, listen, answer through the reader "
                     "macro-action; frame-cost weight 0.4 in the training reward; 16 tasks x 8 rollouts "
                     "per update; the val split selects checkpoints/best.pt."),
        conflict_handler="resolve")
    # The LLM trainer's options first (if its module is installed); ours come after and win on
    # shared flags, whose defaults are None so each trainer applies its own.
    try:
        import importlib

        importlib.import_module(LLM_MODULE).add_llm_arguments(p)
    except (ImportError, AttributeError):
        pass
    p.add_argument("--policy", choices=("mlp", "llm"), default="mlp", help="what to train (default mlp)")
    p.add_argument("--recipe", default=None,
                   help="mlp: a named setup that reproduces a reported result (active-search: the GRPO MLP over "
                        "the search wrappers); it sets every training option but --out, --seed, --updates, "
                        "--perception-noise and --no-progress")
    p.add_argument("--perception-noise", default=None, metavar="MISS,CONFUSION",
                   help="mlp: train (and evaluate) under the simulator's perception noise, e.g. 0.1,0.05")
    p.add_argument("--env", default="CVRSim-v0", help="env id (default CVRSim-v0)")
    p.add_argument("--suite", default="default", help="suite name or JSONL path (default: default)")
    p.add_argument("--split", default="train", help="split to train on (default train)")
    p.add_argument("--eval-split", default="test", help="split to evaluate on ('none' to skip; default test)")
    p.add_argument("--select-split", default="val",
                   help="mlp: split for model selection, best mean return kept as checkpoints/best.pt ('none' to skip; default val)")
    p.add_argument("--families", default=None, help="comma-separated task families to keep")
    p.add_argument("--updates", type=int, default=None, help="mlp: total GRPO updates (default 100, or the recipe's)")
    p.add_argument("--steps", type=int, default=None, help="llm: optimizer steps")
    p.add_argument("--group-size", type=int, default=None, help="rollouts per task (mlp default 8)")
    p.add_argument("--tasks-per-update", type=int, default=16, help="mlp: groups per update (default 16)")
    p.add_argument("--learning-rate", "--lr", type=float, default=None, help="step size (mlp default 3e-4)")
    p.add_argument("--lr-decay", action="store_true", help="mlp: decay the step size linearly to 10%% over --updates")
    p.add_argument("--epochs", type=int, default=2,
                   help="mlp: optimiser passes per update; llm: passes over the SFT/KTO data with --steps 0 (default 2)")
    p.add_argument("--clip-epsilon", type=float, default=0.2, help="mlp: ratio clip (default 0.2)")
    p.add_argument("--kl-coef", type=float, default=0.0, help="mlp: KL weight to the initial policy (default 0)")
    p.add_argument("--entropy-coef", type=float, default=0.001, help="mlp: entropy bonus (default 0.001)")
    p.add_argument("--hidden", type=_int_list, default=[256, 256], help="mlp: hidden sizes, e.g. 256,256")
    p.add_argument("--scales", type=_int_list, default=[1], help="mlp: window scales (default 1: whole videos; e.g. 1,2,4,8,16)")
    p.add_argument("--frame-counts", type=_int_list, default=[8, 16, 32, 64], help="mlp: observe frame counts (default 8,16,32,64)")
    p.add_argument("--num-choices", type=int, default=0,
                   help="mlp: typed answer choices in the catalogue (default 0: answer only through the reader macro-action)")
    p.add_argument("--cost-weight", type=float, default=0.4,
                   help="mlp: weight of the env's frame-cost reward component during training (default 0.4; the env's own default is 0.1)")
    p.add_argument("--scale-advantages", action="store_true",
                   help="mlp: divide advantages by the group's std (original GRPO; default: mean only)")
    p.add_argument("--text-encoder", choices=("hash", "minilm"), default="hash", help="mlp: text encoder (default hash)")
    p.add_argument("--max-steps", type=int, default=None, help="env step limit per episode (default: the env's)")
    p.add_argument("--num-envs", type=int, default=8, help="mlp: envs stepped together (default 8)")
    p.add_argument("--async", dest="vector_async", action="store_true", help="mlp: one process per env")
    p.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="mlp: step the envs in Ray actors on this cluster address or 'local' (needs cvr-gym[ray])")
    p.add_argument("--eval-every", type=int, default=10, help="mlp: evaluate every N updates (default 10)")
    p.add_argument("--checkpoint-every", type=int, default=10, help="mlp: checkpoint every N updates (default 10)")
    p.add_argument("--tensorboard", action="store_true", help="mlp: also write TensorBoard scalars")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--device", default=None, help="llm: device (mlp trains on the CPU)")
    p.add_argument("--out", default=None, help="output folder (mlp default runs/grpo-mlp)")
    p.add_argument("--resume", default=None, help="mlp: checkpoint to continue from, until --updates in total (the other options come from the checkpoint)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.policy == "llm":
        return _run_llm(args)
    return _run_mlp(args)


def _run_llm(args: argparse.Namespace) -> int:
    import importlib

    try:
        module = importlib.import_module(LLM_MODULE)
        train_llm = module.train_llm
    except (ImportError, AttributeError) as err:
        print(f"--policy llm needs {LLM_MODULE}.train_llm, which is not available here ({err}). "
              'Install the LLM extras (pip install "cvr-gym[llm]") in a checkout that has that module, '
              "or use --policy mlp.", file=sys.stderr)
        return 2
    return int(train_llm(args) or 0)


def _reference_scores(config) -> dict[str, dict[str, float]]:
    """Mean score and frames of the single-pass and random reference agents on the eval split.

    Drawn as dashed lines on the learning curve. Empty when the reference agents are not installed.
    """
    import gymnasium as gym

    import cvr_gym  # noqa: F401
    from cvr_gym.evaluation import make_agent, play_episode

    env = gym.make(config.env_id, disable_env_checker=True, **config.env_make_kwargs(config.eval_split))
    out = {}
    try:
        n = len(env.unwrapped.suite)
        for label, spec in (("heuristic (skim and zoom)", "heuristic"), ("single-pass (32 frames/video)", "single-pass:32"),
                            ("random agent", "random")):
            agent = make_agent(spec, seed=config.seed, action_space=env.action_space)
            scores, frames = [], []
            for i in range(n):
                info = play_episode(env, agent, {"task_index": i, "group_id": f"eval-{config.eval_split}-{i}"},
                                    seed=config.seed + i)
                scores.append(info["score"] or 0.0)
                frames.append(info["totals"]["frames"])
            out[label] = {"score": sum(scores) / n, "frames": sum(frames) / n}
    except Exception as err:  # noqa: BLE001 - reference lines are a nicety, never fatal
        print(f"(no reference agents on the plot: {err})", file=sys.stderr)
    finally:
        env.close()
    return out


def _run_mlp(args: argparse.Namespace) -> int:
    from cvr_gym.train.config import GRPOConfig
    from cvr_gym.train.grpo import GRPOTrainer
    from cvr_gym.train.plots import plot_learning_curve

    out = Path(args.out or "runs/grpo-mlp")
    eval_split = None if str(args.eval_split).lower() in ("none", "") else args.eval_split
    select_split = None if str(args.select_split).lower() in ("none", "") else args.select_split
    split = None if str(args.split).lower() in ("none", "all") else args.split
    catalogue = {}
    if args.scales:
        catalogue["scales"] = args.scales
    if args.frame_counts:
        catalogue["frame_counts"] = args.frame_counts
    if args.num_choices is not None:
        catalogue["num_choices"] = args.num_choices
    env_kwargs = {"reward": {"cost": args.cost_weight}} if args.cost_weight is not None else {}
    env_id = {"sim": "CVRSim-v0", "real": "CVRReal-v0"}.get(args.env, args.env)
    config = GRPOConfig(
        env_id=env_id, suite=args.suite, split=split, eval_split=eval_split, select_split=select_split,
        families=[f for f in args.families.split(",") if f] if args.families else None,
        max_steps=args.max_steps, catalogue=catalogue, env_kwargs=env_kwargs,
        scale_advantages=args.scale_advantages, encoder={"text_encoder": args.text_encoder},
        group_size=args.group_size or 8, tasks_per_update=args.tasks_per_update, updates=args.updates or 100,
        learning_rate=args.learning_rate or 3e-4, lr_decay=args.lr_decay, clip_epsilon=args.clip_epsilon, kl_coef=args.kl_coef,
        entropy_coef=args.entropy_coef, epochs=args.epochs, seed=args.seed, num_envs=args.num_envs,
        vectorization="ray" if args.ray else "async" if args.vector_async else "sync", ray_address=args.ray,
        eval_every=args.eval_every,
        log_dir=str(out), checkpoint_every=args.checkpoint_every, tensorboard=args.tensorboard,
    )
    policy_kwargs = {"hidden_sizes": args.hidden}
    noise = tuple(float(x) for x in args.perception_noise.split(",")) if args.perception_noise else None
    if noise is not None and len(noise) != 2:
        raise SystemExit("--perception-noise takes MISS,CONFUSION, e.g. 0.1,0.05")
    if args.recipe:
        from cvr_gym.train.recipes import get_recipe

        recipe = get_recipe(args.recipe)
        config = recipe.build(str(out), seed=args.seed, updates=args.updates, perception_noise=noise)
        policy_kwargs = dict(recipe.policy_kwargs)
    elif noise is not None:
        config.env_kwargs["perception_noise"] = {"miss_prob": noise[0], "confusion_prob": noise[1]}
    args.updates = config.updates if args.updates is None else args.updates
    if args.resume:
        trainer = GRPOTrainer.from_checkpoint(args.resume, log_dir=str(out), updates=args.updates)
    else:
        trainer = GRPOTrainer(config, policy_kwargs=policy_kwargs)
    remaining = max(0, args.updates - trainer.update_count)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(trainer.config.to_dict(), indent=2))
    print(f"GRPO: {trainer.n_tasks} training tasks, {len(trainer.catalogue_config['scales'])} window scales, "
          f"{remaining} updates of {trainer.config.tasks_per_update} x {trainer.config.group_size} episodes -> {out}")

    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=remaining, unit="update", dynamic_ncols=True)
    last_eval: dict = {}

    def on_record(rec: dict) -> None:
        if rec["kind"] == "eval":
            last_eval.update(rec)
        if bar is None:
            return
        if rec["kind"] == "update":
            bar.update(1)
        post = {}
        if rec["kind"] == "update":
            post = {"score": f"{rec['rollout/score']:.3f}", "frames": f"{rec['rollout/frames']:.0f}"}
        if last_eval:
            post["eval"] = f"{last_eval['score']:.3f}"
        bar.set_postfix(post, refresh=False)

    t0 = time.time()
    first_eval = None
    try:
        records = trainer.train(remaining, callback=on_record)
    finally:
        if bar is not None:
            bar.close()
        trainer.close()
    wall = time.time() - t0
    evals = [r for r in trainer.history if r["kind"] == "eval"]
    if evals:
        first_eval = evals[0]
    best = trainer.best
    reference = _reference_scores(trainer.config) if eval_split and trainer.config.env_id == "CVRSim-v0" else {}
    png = plot_learning_curve(out / "log.jsonl", out / "learning_curve.png", best_update=best.get("update"),
                              baselines=reference, title=f"GRPO MLP policy{' (' + args.recipe + ')' if args.recipe else ''} "
                              f"on {trainer.config.env_id}, suite {trainer.config.suite}")
    summary = {"updates": trainer.update_count, "episodes": trainer.episodes_seen, "wall_s": round(wall, 1),
               "checkpoint": str(out / "checkpoints" / "last.pt"), "learning_curve": str(png)}
    if first_eval and evals:
        summary[f"{eval_split} score"] = {"first": round(first_eval["score"], 4), "last": round(evals[-1]["score"], 4)}
        summary[f"{eval_split} frames"] = {"first": round(first_eval["frames"], 1), "last": round(evals[-1]["frames"], 1)}
    if best:
        summary["best"] = {"checkpoint": str(out / "checkpoints" / "best.pt"), "update": best["update"],
                           f"{best['split']} return": round(best["return"], 4)}
        if best.get("eval"):
            summary["best"][f"{best['eval']['split']} score"] = round(best["eval"]["score"], 4)
            summary["best"][f"{best['eval']['split']} frames"] = round(best["eval"]["frames"], 1)
    for name, vals in reference.items():
        summary[f"{name} on {eval_split}"] = {k: round(v, 4) for k, v in vals.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print("\nSummary")
    for k, v in summary.items():
        print(f"  {k}: {v}")
    chosen = "best.pt" if best else "last.pt"
    print(f"Evaluate it: cvr-gym eval --agent checkpoint:{out / 'checkpoints' / chosen}")
    del records
    return 0
