"""``cvr-gym train``: train a policy with GRPO (``--policy mlp``; ``--policy llm`` via TRL)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from cvr_gym.cli.env_options import env_id_arg, split_arg
from cvr_gym.cli.flags import add_config_arguments, config_from_args

def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


#: GRPOConfig fields with a flag of another name here: --env (also sim/real), --out, --ray ADDRESS.
_NOT_FLAGS = ("env_id", "log_dir", "ray_address")


def register(sub: argparse._SubParsersAction) -> None:
    from cvr_gym.train.config import GRPOConfig
    from cvr_gym.train.recipes import get_recipe

    p = sub.add_parser(
        "train", help="train a policy with GRPO in the simulator (mlp, or an LLM with --policy llm)",
        description=("Train a policy with group-relative policy optimisation. --policy mlp trains a small "
                     "MLP with cvr_gym.train.GRPOTrainer from a recipe (default whole-video: numbered tool "
                     "calls observing whole videos at 8/16/32/64 frames, answers through the reader "
                     "macro-action, frame-cost weight 0.4; --recipe active-search: the search wrappers); "
                     "any GRPOConfig option given as a flag overrides the recipe. --policy llm hands over "
                     "to the TRL stages in cvr_gym.train.llm (SFT, KTO, GRPO). The val split selects "
                     "checkpoints/best.pt."),
        conflict_handler="resolve")
    # The LLM trainer's options first; the GRPO options below replace the flags both trainers
    # share (all default to None, so each trainer applies its own default).
    from cvr_gym.cli.train_llm import add_llm_arguments

    add_llm_arguments(p)
    p.add_argument("--policy", choices=("mlp", "llm"), default="mlp", help="what to train (default mlp)")
    p.add_argument("--recipe", default=None,
                   help="mlp: a named setup that reproduces a reported result (whole-video, the default; "
                        "active-search: the GRPO MLP over the search wrappers); flags given override it")
    p.add_argument("--env", default="CVRSim-v0", help="env id, or sim / real (default CVRSim-v0)")
    p.add_argument("--out", default=None, help="output folder (mlp default runs/grpo-mlp)")
    p.add_argument("--resume", default=None,
                   help="mlp: checkpoint to continue from, until --updates in total (the other options come "
                        "from the checkpoint)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    team = p.add_argument_group("Team training (--policy mlp): one shared policy on every seat of cvr_gym.team")
    team.add_argument("--team", type=int, default=None, metavar="N",
                      help="train a team of N masters with a shared memory (cvr_gym.train.TeamGRPOTrainer); "
                           "--group-size then counts team episodes per task (N trajectories each); default out "
                           "runs/grpo-team")
    team.add_argument("--topology", default="full", help="team communication: full, ring or dropout[:P] (default full)")
    mlp = p.add_argument_group("MLP policy (--policy mlp): shortcuts into the recipe's dict options")
    mlp.add_argument("--hidden", type=_int_list, default=None, help="hidden layer sizes, e.g. 256,256")
    mlp.add_argument("--scales", type=_int_list, default=None,
                     help="catalogue window scales (1: whole videos; e.g. 1,2,4,8,16)")
    mlp.add_argument("--frame-counts", type=_int_list, default=None, help="catalogue observe frame counts, e.g. 8,16,32,64")
    mlp.add_argument("--num-choices", type=int, default=None,
                     help="typed answer choices in the catalogue (0: answer only through the reader macro-action)")
    mlp.add_argument("--text-encoder", choices=("hash", "minilm"), default=None, help="observation text encoder")
    mlp.add_argument("--cost-weight", type=float, default=None,
                     help="weight of the env's frame-cost reward component during training (the env's own default is 0.1)")
    mlp.add_argument("--perception-noise", default=None, metavar="MISS,CONFUSION",
                     help="train (and evaluate) under the simulator's perception noise, e.g. 0.1,0.05")
    mlp.add_argument("--ray", default=None, metavar="ADDRESS",
                     help="step the envs in Ray actors on this cluster address or 'local' (vectorization ray; "
                          "needs cvr-gym[ray])")
    add_config_arguments(p, GRPOConfig, exclude=_NOT_FLAGS, replace=True,
                         defaults=get_recipe("whole-video").build("runs/grpo-mlp").to_dict(),
                         title="GRPO options (GRPOConfig fields; defaults shown: the whole-video recipe's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.policy == "llm":
        return _run_llm(args)
    return _run_mlp(args)


def _run_llm(args: argparse.Namespace) -> int:
    import importlib.util

    from cvr_gym.cli.train_llm import train_llm

    missing = [name for name in ("torch", "transformers", "trl") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"--policy llm needs {', '.join(missing)}: pip install \"cvr-gym[llm]\" (or use --policy mlp)",
              file=sys.stderr)
        return 2
    return int(train_llm(args) or 0)


def mlp_config(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The :class:`GRPOConfig` and policy arguments of ``--policy mlp``: the recipe, then the
    flags given."""
    from cvr_gym.train.config import GRPOConfig
    from cvr_gym.train.recipes import get_recipe

    noise = tuple(float(x) for x in args.perception_noise.split(",")) if args.perception_noise else None
    if noise is not None and len(noise) != 2:
        raise ValueError("--perception-noise takes MISS,CONFUSION, e.g. 0.1,0.05")
    recipe = get_recipe(args.recipe or "whole-video")
    team = getattr(args, "team", None)
    if team is not None and team < 1:
        raise ValueError("--team must be at least 1")
    base = recipe.build(str(args.out or ("runs/grpo-team" if team else "runs/grpo-mlp")), perception_noise=noise).to_dict()
    catalogue = {k: v for k, v in (("scales", args.scales), ("frame_counts", args.frame_counts),
                                   ("num_choices", args.num_choices)) if v is not None}
    shortcuts: dict[str, Any] = {}
    if catalogue:
        shortcuts["catalogue"] = {**base["catalogue"], **catalogue}
    if args.text_encoder:
        shortcuts["encoder"] = {**base["encoder"], "text_encoder": args.text_encoder}
    if args.cost_weight is not None:
        reward = {**base["env_kwargs"].get("reward", {}), "cost": args.cost_weight}
        shortcuts["env_kwargs"] = {**base["env_kwargs"], **(args.env_kwargs or {}), "reward": reward}
    if args.ray:
        shortcuts.update(vectorization="ray", ray_address=args.ray)
    for name in ("split", "eval_split", "select_split"):  # "none"/"all" mean no split / every task
        value = getattr(args, name, None)
        if isinstance(value, str) and split_arg(value) is None:
            shortcuts[name] = None
    config = config_from_args(args, GRPOConfig, base=base, env_id=env_id_arg(args.env), **shortcuts)
    if team:
        from cvr_gym.team.topology import Topology
        from cvr_gym.train.team import TeamGRPOConfig

        Topology.from_any(args.topology)  # a clear error before any env is built
        config = TeamGRPOConfig.from_dict({**config.to_dict(), "num_agents": team, "topology": args.topology})
    policy_kwargs = dict(recipe.policy_kwargs)
    if args.hidden:
        policy_kwargs["hidden_sizes"] = args.hidden
    return config, policy_kwargs


def _run_mlp(args: argparse.Namespace) -> int:
    from cvr_gym.train.grpo import GRPOTrainer
    from cvr_gym.train.summary import write_run_summary

    try:
        config, policy_kwargs = mlp_config(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(config.log_dir)
    trainer_class = GRPOTrainer
    if args.team or (args.resume and _is_team_checkpoint(args.resume)):
        from cvr_gym.train.team import TeamGRPOTrainer as trainer_class
    try:  # building the envs checks the config against them (e.g. a served env's settings)
        if args.resume:
            trainer = trainer_class.from_checkpoint(args.resume, log_dir=str(out), updates=args.updates)
        else:
            trainer = trainer_class(config, policy_kwargs=policy_kwargs)
    except (ValueError, TypeError, OSError) as err:
        print(f"error: cannot start training: {err}", file=sys.stderr)
        return 2
    target = trainer.config.updates if args.updates is None else args.updates
    remaining = max(0, target - trainer.update_count)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(trainer.config.to_dict(), indent=2))
    seats = getattr(trainer.config, "num_agents", None)
    episodes = f"team episodes of {seats} seats ({trainer.config.topology})" if seats else "episodes"
    print(f"GRPO: {trainer.n_tasks} training tasks, {len(trainer.catalogue_config['scales'])} window scales, "
          f"{remaining} updates of {trainer.config.tasks_per_update} x {trainer.config.group_size} {episodes} -> {out}")

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
        post = {}
        if rec["kind"] == "update":
            bar.update(1)
            post = {"score": f"{rec['rollout/score']:.3f}", "frames": f"{rec['rollout/frames']:.0f}"}
        if last_eval:
            post["eval"] = f"{last_eval['score']:.3f}"
        bar.set_postfix(post, refresh=False)

    t0 = time.time()
    try:
        trainer.train(remaining, callback=on_record)
    finally:
        if bar is not None:
            bar.close()
        trainer.close()
    recipe = args.recipe or ("whole-video" if not args.resume else None)
    # Reference agents are replayed in the simulator only: on real video they would cost minutes.
    summary = write_run_summary(
        trainer, out, wall_s=time.time() - t0, with_references=trainer.config.env_id == "CVRSim-v0",
        title=f"GRPO MLP {'team of ' + str(seats) if seats else 'policy'}{' (' + recipe + ')' if recipe else ''} on {trainer.config.env_id}, "
              f"suite {trainer.config.suite}")
    print("\nSummary")
    for k, v in summary.items():
        print(f"  {k}: {v}")
    chosen = "best.pt" if trainer.best else "last.pt"
    # team seats of one policy sample (seeded): greedy seats would all make the same calls
    spec = f"checkpoint:{out / 'checkpoints' / chosen}"
    print(f"Evaluate it: cvr-gym eval --agent {spec}" + (f" and as a team: --agent '{spec}?sample' --team {seats}"
                                                         if seats else ""))
    return 0


def _is_team_checkpoint(path: str) -> bool:
    """Whether ``path`` was written by the team trainer (its config names the team size)."""
    from cvr_gym.train.grpo import CheckpointError, read_checkpoint

    try:
        return "num_agents" in (read_checkpoint(path).get("config") or {})
    except CheckpointError:
        return False  # the trainer's own load reports the problem
