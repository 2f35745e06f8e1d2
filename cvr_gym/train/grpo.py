"""``GRPOTrainer``: group-relative policy optimisation for torch policies on cvr_gym envs."""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cvr_gym.train.config import GRPOConfig
from cvr_gym.train.policy import MLPPolicy, masked_entropy, obs_to_tensors, policy_from_config
from cvr_gym.train.rollout import Episode, make_policy_env, make_vector_env, run_episodes, summarise

CHECKPOINT_VERSION = 1


def group_advantages(returns: Sequence[Sequence[float]] | np.ndarray, eps: float = 1e-6,
                     scale: bool = True) -> np.ndarray:
    """Group-normalised advantages: ``(R - mean(R_group)) / (std(R_group) + eps)``.

    ``returns`` has one row per group (``(n_groups, G)``); ``std`` is the population standard
    deviation (``ddof=0``). With ``scale=False`` only the group mean is subtracted. A group whose
    returns are all equal gets zero advantages (it carries no learning signal).
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError(f"returns must be (n_groups, group_size), got shape {r.shape}")
    adv = r - r.mean(axis=1, keepdims=True)
    if scale:
        denom = np.broadcast_to(r.std(axis=1, keepdims=True) + eps, adv.shape)
        adv = np.divide(adv, denom, out=np.zeros_like(adv), where=denom > 0)
    return adv


def clipped_surrogate(ratio: torch.Tensor, adv: torch.Tensor, clip_epsilon: float) -> torch.Tensor:
    """Per-action policy loss ``-min(rho * A, clip(rho, 1 - eps, 1 + eps) * A)``."""
    return -torch.minimum(ratio * adv, ratio.clamp(1 - clip_epsilon, 1 + clip_epsilon) * adv)


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-action KL(new || ref) estimate ``exp(r) - r - 1`` with ``r = ref_logp - logp`` (>= 0)."""
    r = ref_logp - logp
    return r.exp() - r - 1.0


class GRPOTrainer:
    """Train a torch policy with GRPO on a Gymnasium env (by default ``CVRSim-v0``).

    ## Description

    Every update draws ``tasks_per_update`` training tasks and plays ``group_size`` episodes of
    each through a Gymnasium vector env; the episodes of a group all start from
    ``reset(options={"group_id": gid, "task_index": i})``, so they face the same task and the same
    perception-noise stream and differ only by the policy's sampling. Advantages are the
    group-normalised episode returns (:func:`group_advantages`), shared by every action of an
    episode; the policy maximises the clipped-ratio objective against the rollout
    log-probabilities, optionally penalised by the KL to a frozen reference copy and with an
    entropy bonus (the details are in :class:`~cvr_gym.train.config.GRPOConfig`).

    The env the policy acts in is ``VectorObservation(DiscreteActions(env))``
    (:func:`~cvr_gym.train.rollout.make_policy_env`); the policy maps the observation dict and
    the action mask to logits (:class:`~cvr_gym.train.policy.MLPPolicy` by default).

    ## Logs and checkpoints

    ``log_dir/log.jsonl`` gets one JSON line per update (``"kind": "update"``: rollout score,
    return, frames, steps, losses, KL, entropy, clip fraction, timings) and per evaluation
    (``"kind": "eval"``); with ``tensorboard=True`` the same scalars go to TensorBoard.
    :meth:`save_checkpoint` stores the policy (class, config, weights), the optimiser, the
    reference policy, the RNG states, the counters and the wrapper configuration;
    :meth:`from_checkpoint` resumes from one, and a resumed run continues exactly as the
    uninterrupted run would have.

    ## Arguments

    - ``config``: a :class:`GRPOConfig`.
    - ``policy``: the ``nn.Module`` to train (default: ``MLPPolicy(**policy_kwargs)`` sized for
      the env).
    - ``policy_kwargs``: arguments of the default ``MLPPolicy`` (``hidden_sizes``, ``activation``).
    """

    def __init__(self, config: GRPOConfig, policy: nn.Module | None = None,
                 policy_kwargs: dict[str, Any] | None = None):
        self.config = config
        torch.set_num_threads(max(1, int(config.torch_threads)))
        probe = make_policy_env(config, config.split)
        self.n_tasks = len(probe.unwrapped.suite)
        self.catalogue_config = probe.get_wrapper_attr("catalogue").config()
        self.encoder_config = probe.get_wrapper_attr("encoder").config()
        obs_space, n_actions = probe.observation_space, int(probe.action_space.n)
        probe.close()
        if policy is None:
            with torch.random.fork_rng(devices=[]):  # seeded initial weights; the global RNG is left alone
                torch.manual_seed(int(config.seed))
                kwargs = {"action_groups": self.action_groups(), **(policy_kwargs or {})}
                policy = MLPPolicy(obs_space, n_actions, **kwargs)
        self.policy = policy
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.learning_rate)
        self.ref_policy: nn.Module | None = None
        if config.kl_coef > 0:
            self.ref_policy = copy.deepcopy(self.policy).eval()
            for p in self.ref_policy.parameters():
                p.requires_grad_(False)
        self.generator = torch.Generator().manual_seed(int(config.seed))
        self.rng = np.random.default_rng(int(config.seed))
        self.update_count = 0
        self.episodes_seen = 0
        self.envs = make_vector_env(config, config.split)
        self._eval_envs = None
        self._writer = None
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {}

    def action_groups(self) -> list[int]:
        """Group id per catalogue action for the hierarchical policy: 0 observe, 1 listen, 2 answer."""
        from cvr_gym.wrappers.search import catalogue_from_config

        cat = catalogue_from_config(self.catalogue_config)
        if hasattr(cat, "action_groups"):
            return list(cat.action_groups())
        ids = {"observe": 0, "listen": 1, "answer": 2, "answer_from_evidence": 2}
        groups = [ids[cat.entry(i).kind] for i in range(len(cat))]
        # renumber so that the ids are 0..k-1 (a catalogue without listen has no group 1)
        order = {g: n for n, g in enumerate(sorted(set(groups)))}
        return [order[g] for g in groups]

    # -- rollouts --------------------------------------------------------------------------------
    def group_options(self, update: int) -> list[list[dict]]:
        """The reset options of each group of update ``update`` (draws tasks from the trainer's RNG)."""
        T, G = self.config.tasks_per_update, self.config.group_size
        tasks = self.rng.choice(self.n_tasks, size=T, replace=T > self.n_tasks)
        return [[{"task_index": int(t), "group_id": f"s{self.config.seed}-u{update}-g{k}"}] * G
                for k, t in enumerate(tasks)]

    def collect(self, groups: Sequence[Sequence[dict]]) -> list[list[Episode]]:
        flat = [o for g in groups for o in g]
        episodes = run_episodes(self.envs, self.policy, flat, generator=self.generator)
        out, i = [], 0
        for g in groups:
            out.append(episodes[i: i + len(g)])
            i += len(g)
        return out

    # -- one update ------------------------------------------------------------------------------
    def update(self) -> dict[str, Any]:
        """Collect one batch of groups and optimise on it; returns the update's statistics."""
        cfg = self.config
        lr = self.learning_rate()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        t0 = time.perf_counter()
        groups = self.collect(self.group_options(self.update_count))
        t1 = time.perf_counter()
        returns = np.array([[e.ret for e in g] for g in groups])
        adv = group_advantages(returns, eps=cfg.adv_eps, scale=cfg.scale_advantages)
        episodes = [e for g in groups for e in g]
        ep_adv = adv.reshape(-1)
        stats = self._optimise(episodes, ep_adv)
        t2 = time.perf_counter()
        self.update_count += 1
        self.episodes_seen += len(episodes)
        roll = summarise(episodes)
        record = {"kind": "update", "update": self.update_count, "episodes_total": self.episodes_seen,
                  **{f"rollout/{k}": v for k, v in roll.items()}, **stats,
                  "zero_signal_groups": int(np.sum(returns.std(axis=1) == 0)), "lr": lr,
                  "rollout_s": t1 - t0, "optim_s": t2 - t1}
        return record

    def learning_rate(self) -> float:
        """The step size of the next update (see ``GRPOConfig.lr_decay``)."""
        cfg = self.config
        if not cfg.lr_decay or cfg.updates <= 0:
            return cfg.learning_rate
        frac = min(1.0, self.update_count / cfg.updates)
        return cfg.learning_rate * (1.0 - frac * (1.0 - cfg.lr_final))

    def _optimise(self, episodes: Sequence[Episode], ep_adv: np.ndarray) -> dict[str, float]:
        cfg = self.config
        keys = list(episodes[0].obs)
        obs = {k: torch.as_tensor(np.concatenate([np.stack(e.obs[k]) for e in episodes])) for k in keys}
        masks = torch.as_tensor(np.concatenate([np.stack(e.masks) for e in episodes]))
        actions = torch.as_tensor(np.concatenate([e.actions for e in episodes]), dtype=torch.long)
        old_logp = torch.as_tensor(np.concatenate([e.logps for e in episodes]), dtype=torch.float32)
        adv = torch.as_tensor(np.concatenate([[a] * len(e) for a, e in zip(ep_adv, episodes)]), dtype=torch.float32)
        if cfg.loss_aggregation == "episode":
            weights = np.concatenate([[1.0 / len(e)] * len(e) for e in episodes])
        else:
            weights = np.ones(len(actions))
        weights = torch.as_tensor(weights, dtype=torch.float32)
        n = len(actions)
        sums = {"loss": 0.0, "policy_loss": 0.0, "entropy": 0.0, "kl_ref": 0.0, "clip_frac": 0.0,
                "approx_kl_old": 0.0}
        passes = 0
        self.policy.train()
        for _ in range(cfg.epochs):
            order = torch.randperm(n, generator=self.generator) if cfg.minibatches > 1 else torch.arange(n)
            for mb in torch.tensor_split(order, min(cfg.minibatches, n)):
                o = {k: v[mb] for k, v in obs.items()}
                m = masks[mb]
                logits = self.policy(o, m)
                logp_all = torch.log_softmax(logits, dim=-1)
                logp = logp_all.gather(1, actions[mb, None]).squeeze(1)
                log_ratio = logp - old_logp[mb]
                ratio = log_ratio.exp()
                a = adv[mb]
                pg = clipped_surrogate(ratio, a, cfg.clip_epsilon)
                ent = masked_entropy(logits, m)
                per_step = pg - cfg.entropy_coef * ent
                kl = torch.zeros_like(pg)
                if self.ref_policy is not None:
                    with torch.no_grad():
                        ref_logp = torch.log_softmax(self.ref_policy(o, m), dim=-1).gather(1, actions[mb, None]).squeeze(1)
                    kl = kl_k3(logp, ref_logp)
                    per_step = per_step + cfg.kl_coef * kl
                w = weights[mb]
                wsum = w.sum()
                loss = (per_step * w).sum() / wsum
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.max_grad_norm:
                    nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    sums["loss"] += float(loss)
                    sums["policy_loss"] += float((pg * w).sum() / wsum)
                    sums["entropy"] += float((ent * w).sum() / wsum)
                    sums["kl_ref"] += float((kl * w).sum() / wsum)
                    sums["clip_frac"] += float(((ratio - 1).abs() > cfg.clip_epsilon).float().mean())
                    sums["approx_kl_old"] += float(((ratio - 1) - log_ratio).mean())
                passes += 1
        out = {k: v / max(1, passes) for k, v in sums.items()}
        out["actions"] = n
        return out

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, split: str | None = None, episodes: int | None = None, greedy: bool = True,
                 kind: str = "eval") -> dict[str, Any]:
        """Play the policy on ``split`` (default ``eval_split``): every task once, or ``episodes``.

        Returns a log record (``kind``, ``update``, ``split`` and the means of score, return,
        frames and steps).
        """
        cfg = self.config
        split = split if split is not None else cfg.eval_split
        if self._eval_envs is None:
            self._eval_envs = {}
        if split not in self._eval_envs:
            probe = make_policy_env(cfg, split)
            self._eval_envs[split] = (make_vector_env(cfg, split), len(probe.unwrapped.suite))
            probe.close()
        envs, n_tasks = self._eval_envs[split]
        n = episodes if episodes is not None else (cfg.eval_episodes or n_tasks)
        opts = [{"task_index": i % n_tasks, "group_id": f"eval-{split}-{i}"} for i in range(n)]
        gen = torch.Generator().manual_seed(int(cfg.seed) + 10_007)  # only used when greedy=False
        eps = run_episodes(envs, self.policy, opts, generator=gen, greedy=greedy)
        return {"kind": kind, "update": self.update_count, "split": split, **summarise(eps)}

    def _evaluate_all(self, emit: Callable[[dict[str, Any]], None], log_dir: Path) -> None:
        cfg = self.config
        test = self.evaluate() if cfg.eval_split else None
        if test is not None:
            emit(test)
        if cfg.select_split:
            sel = self.evaluate(cfg.select_split, kind="select")
            emit(sel)
            if not self.best or sel["return"] > self.best["return"]:
                self.best = {"update": self.update_count, "return": sel["return"], "score": sel["score"],
                             "frames": sel["frames"], "split": cfg.select_split,
                             "eval": {k: test[k] for k in ("split", "score", "frames", "steps", "return")} if test else None}
                self.save_checkpoint(log_dir / "checkpoints" / "best.pt")

    # -- training loop ---------------------------------------------------------------------------
    def train(self, updates: int | None = None,
              callback: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Run ``updates`` more updates (default ``config.updates``), logging, evaluating and saving.

        ``callback`` gets every log record (updates and evaluations) as it is written.
        """
        cfg = self.config
        updates = cfg.updates if updates is None else int(updates)
        log_dir = Path(cfg.log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        records = []

        def emit(rec: dict[str, Any]) -> None:
            rec = {**rec, "time": time.time()}
            records.append(rec)
            self.history.append(rec)
            with open(log_dir / "log.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec) + "\n")
            self._tensorboard(rec)
            if callback is not None:
                callback(rec)

        evaluating = bool(cfg.eval_split or cfg.select_split)
        if evaluating and self.update_count == 0 and updates > 0:
            self._evaluate_all(emit, log_dir)
        for _ in range(updates):
            emit(self.update())
            u = self.update_count
            if evaluating and cfg.eval_every and u % cfg.eval_every == 0:
                self._evaluate_all(emit, log_dir)
            if cfg.checkpoint_every and u % cfg.checkpoint_every == 0:
                self.save_checkpoint(log_dir / "checkpoints" / f"update_{u:05d}.pt")
        if updates > 0:
            if evaluating and (not cfg.eval_every or self.update_count % cfg.eval_every):
                self._evaluate_all(emit, log_dir)
            self.save_checkpoint(log_dir / "checkpoints" / "last.pt")
        return records

    def _tensorboard(self, rec: dict[str, Any]) -> None:
        if not self.config.tensorboard:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(Path(self.config.log_dir) / "tensorboard"))
        prefix = "eval/" if rec.get("kind") == "eval" else "train/"
        for k, v in rec.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("update", "time") and math.isfinite(v):
                self._writer.add_scalar(prefix + k, v, rec.get("update", self.update_count))
        self._writer.flush()

    # -- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(),
            "policy": {"config": self.policy.config(), "state": self.policy.state_dict()},
            "ref_policy": self.ref_policy.state_dict() if self.ref_policy is not None else None,
            "optimizer": self.optimizer.state_dict(),
            "rng": {"torch": self.generator.get_state(), "numpy": self.rng.bit_generator.state},
            "update": self.update_count,
            "episodes": self.episodes_seen,
            "wrappers": {"catalogue": self.catalogue_config, "encoder": self.encoder_config},
            "best": dict(self.best),
        }

    def save_checkpoint(self, path: str | Path) -> Path:
        """Write everything needed to resume (and to run the policy as an agent) to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save(self.state_dict(), tmp)
        tmp.replace(path)
        return path

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"]["state"])
        if self.ref_policy is not None and state.get("ref_policy") is not None:
            self.ref_policy.load_state_dict(state["ref_policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["rng"]["torch"])
        self.rng.bit_generator.state = state["rng"]["numpy"]
        self.update_count = int(state["update"])
        self.episodes_seen = int(state["episodes"])
        self.best = dict(state.get("best") or {})

    @classmethod
    def from_checkpoint(cls, path: str | Path, **overrides: Any) -> "GRPOTrainer":
        """Resume from a checkpoint; ``overrides`` replace config fields (e.g. ``log_dir``, ``updates``)."""
        state = read_checkpoint(path)
        config = GRPOConfig.from_dict({**state["config"], **overrides})
        policy = policy_from_config(state["policy"]["config"])
        trainer = cls(config, policy=policy)
        trainer.load_state_dict(state)
        return trainer

    def close(self) -> None:
        self.envs.close()
        for envs, _ in (self._eval_envs or {}).values():
            envs.close()
        if self._writer is not None:
            self._writer.close()


class CheckpointError(ValueError):
    """A file that is not a policy checkpoint written by :class:`GRPOTrainer` (one-line message)."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The state a trainer saved at ``path``.

    Raises :class:`CheckpointError` for a missing file or one the trainer did not write. Only
    tensors and plain data are unpickled (``weights_only=True``): a checkpoint cannot run code.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same one-line answer
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: not a checkpoint written by cvr-gym train ({reason[:200]})") from None
    if not isinstance(state, dict) or not {"policy", "wrappers", "config", "update"} <= set(state):
        raise CheckpointError(f"{path}: not a checkpoint written by cvr-gym train (missing policy/wrappers/config)")
    return state


def load_policy(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """The policy stored in a checkpoint (in eval mode) and the checkpoint's wrapper configs.

    Raises :class:`CheckpointError` as :func:`read_checkpoint` does, or when the policy does not load.
    """
    state = read_checkpoint(path)
    try:
        policy = policy_from_config(state["policy"]["config"])
        policy.load_state_dict(state["policy"]["state"])
    except Exception as err:  # noqa: BLE001
        raise CheckpointError(f"{path}: the checkpoint's policy does not load: {type(err).__name__}: {err}") from None
    policy.eval()
    return policy, {**state["wrappers"], "config": state["config"], "update": state["update"]}


__all__ = ["CheckpointError", "GRPOConfig", "GRPOTrainer", "clipped_surrogate", "group_advantages", "kl_k3", "load_policy",
           "obs_to_tensors", "read_checkpoint"]
