"""Train a team of masters with GRPO (one shared policy on every seat) and compare it with a
single-agent GRPO policy trained on the same number of trajectories.

    python examples/train_team_grpo.py --updates 60 --out runs/team-grpo

Both policies are the package's MLP over the classic-RL wrappers (whole-video observe at 8, 16,
32 or 64 frames, whole-video listen, answer through the reader), frame-cost weight 0.4 as in
``cvr-gym train --policy mlp``. Each update draws ``--tasks-per-update`` training tasks; the
single policy plays ``group-size x num-agents`` episodes of each, the team policy
``group-size`` team episodes of ``num-agents`` seats (the same number of trajectories). The
checkpoint with the best mean return on the val split is kept (the team's scored with sampling
seats, see ``TeamGRPOConfig.eval_greedy``); both are then evaluated on the test split alone and
as teams (``cvr_gym.team``, seats reading the team memory), with greedy and with sampling seats.
Prints a table and writes ``results.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from baselines.team import make_team
from cvr_gym.evaluation.runner import EvalConfig, plan, run_episodes
from cvr_gym.evaluation.summary import summarise
from cvr_gym.team.play import TeamConfig, run_team_episodes
from cvr_gym.train.config import GRPOConfig
from cvr_gym.train.grpo import GRPOTrainer
from cvr_gym.train.team import TeamGRPOConfig, TeamGRPOTrainer


def common(args: argparse.Namespace, out: Path) -> dict:
    return dict(suite="default", split="train", eval_split=None, select_split="val",
                catalogue={"scales": [1], "frame_counts": [8, 16, 32, 64], "num_choices": 0},
                env_kwargs={"reward": {"cost": args.cost_weight}}, tasks_per_update=args.tasks_per_update,
                updates=args.updates, learning_rate=3e-4, entropy_coef=0.001, seed=args.seed,
                eval_every=args.eval_every, checkpoint_every=0, log_dir=str(out))


def train(trainer: GRPOTrainer, label: str) -> float:
    t0 = time.time()

    def show(rec: dict) -> None:
        if rec["kind"] == "select":
            print(f"  {label} update {rec['update']:4d}: val score {rec['score']:.3f}, return {rec['return']:.3f}, "
                  f"frames {rec['frames']:.1f}, steps {rec['steps']:.2f}", flush=True)

    try:
        trainer.train(callback=show)
    finally:
        trainer.close()
    return time.time() - t0


def evaluate(checkpoint: Path, num_agents: int, topology: str) -> dict[str, dict]:
    """The checkpoint on the test split: alone (greedy; steps) and as a team (rounds), with greedy
    seats (which all make the same calls) and with sampling seats (seeded)."""
    config = EvalConfig(agent=f"checkpoint:{checkpoint}", split="test")
    episodes = plan(config)
    out = {"alone": summarise(r.record for r in run_episodes(config, episodes))["ALL"]}
    for how, spec in (("greedy", config.agent), ("sampled", f"{config.agent}?sample")):
        team_config = EvalConfig(agent=spec, split="test")
        records = run_team_episodes(team_config, TeamConfig(num_agents, topology), episodes, make_team)
        out[f"team of {num_agents}, {how}"] = summarise(r.record for r in records)["ALL"]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--updates", type=int, default=60)
    p.add_argument("--tasks-per-update", type=int, default=8)
    p.add_argument("--group-size", type=int, default=4, help="team episodes per task (single: x num-agents)")
    p.add_argument("--num-agents", type=int, default=4)
    p.add_argument("--topology", default="full", help="training topology: full, ring, dropout[:P]")
    p.add_argument("--cost-weight", type=float, default=0.4)
    p.add_argument("--eval-every", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/team-grpo")
    args = p.parse_args()
    out = Path(args.out)
    n = args.num_agents

    single = GRPOTrainer(GRPOConfig(group_size=args.group_size * n, **common(args, out / "single")))
    single_s = train(single, "single")
    team = TeamGRPOTrainer(TeamGRPOConfig(group_size=args.group_size, num_agents=n, topology=args.topology,
                                          **common(args, out / "team")))
    team_s = train(team, "team")

    results = {"settings": vars(args), "train_s": {"single": round(single_s, 1), "team": round(team_s, 1)}}
    for label, trainer in (("single-trained", single), ("team-trained", team)):
        ckpt = Path(trainer.config.log_dir) / "checkpoints" / "best.pt"
        results[label] = {"best_update": trainer.best.get("update"), **evaluate(ckpt, n, "full")}
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\ntest split (220 tasks); trained {single_s:.0f} s (single) and {team_s:.0f} s (team)")
    print(f"{'policy':16} {'played':22} {'score':>6} {'steps/rounds':>13} {'frames':>7} {'latency s':>10}")
    for label in ("single-trained", "team-trained"):
        for played in ("alone", f"team of {n}, greedy", f"team of {n}, sampled"):
            row = results[label][played]
            print(f"{label:16} {played:22} {row['score']:6.3f} {row['steps']:13.2f} {row['frames']:7.1f} "
                  f"{row['latency_s']:10.2f}")


if __name__ == "__main__":
    main()
