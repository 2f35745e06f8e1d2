"""``GRPOConfig``: every knob of :class:`~cvr_gym.train.grpo.GRPOTrainer`, as plain fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class GRPOConfig:
    """Configuration of group-relative policy optimisation (GRPO) over cvr_gym envs.

    One *update*: pick ``tasks_per_update`` tasks; run ``group_size`` episodes of each, all
    started with the same ``reset(options={"group_id": ..., "task_index": ...})`` (same task, same
    perception-noise stream); score each episode by its return ``R`` (the env's rubric); give
    every action of an episode the advantage ``R - mean(R_group)`` (divided by
    ``std(R_group) + adv_eps`` when ``scale_advantages``, the original GRPO normalisation);
    then take ``epochs`` optimiser passes over the batch, maximising the clipped-ratio objective
    ``min(rho * A, clip(rho, 1 - eps, 1 + eps) * A)`` (``rho`` = new / rollout probability of the
    taken action), minus ``kl_coef`` times the KL to a frozen reference copy of the initial
    policy, plus ``entropy_coef`` times the policy entropy.

    Environment:
        env_id: Gymnasium id of the env (``"CVRSim-v0"``; any ``CVREnv`` works).
        suite: suite name or path given to the env.
        split: split trained on.
        eval_split: split evaluated on (``None``: no evaluation).
        select_split: split on which each evaluation also scores the policy for model selection
            (``None``: none): the checkpoint with the best mean return there (the training
            objective: score minus the weighted costs) is kept as ``checkpoints/best.pt``.
        families: keep only these task families (``None``: all).
        env_kwargs: more keyword arguments for ``gym.make`` (``reward``, ``frame_budget``,
            ``perception_noise``, ...).
        max_steps: the env's step limit per episode (``None``: the env's default, 12).

    Wrappers (see :mod:`cvr_gym.wrappers`):
        wrappers: ``"classic"`` (:func:`~cvr_gym.wrappers.wrap_env`: fixed windows, text vectors)
            or ``"search"`` (:func:`~cvr_gym.wrappers.search.wrap_search_env`: relative zoom
            moves, coverage and match-heat features).
        catalogue: keyword arguments of :class:`~cvr_gym.wrappers.catalogue.ActionCatalogue`
            (``scales``, ``frame_counts``, ``num_choices``, ...).
        encoder: keyword arguments of :class:`~cvr_gym.wrappers.encoding.ObservationEncoder`
            (``text_encoder``, ``text_dim``, ``max_options``, ``time_bins``).

    GRPO:
        group_size: episodes per task (G); advantages are normalised within each group.
        tasks_per_update: groups per update (the batch holds ``group_size * tasks_per_update``
            episodes).
        updates: updates :meth:`GRPOTrainer.train` runs by default.
        learning_rate: Adam step size.
        lr_decay: decay the step size linearly from ``learning_rate`` to ``lr_final * learning_rate``
            over ``updates`` updates (constant afterwards).
        lr_final: the fraction of ``learning_rate`` reached at the end of the decay.
        clip_epsilon: PPO-style ratio clip.
        kl_coef: weight of the KL penalty to the frozen reference policy (0 disables it and no
            reference copy is kept). The estimator is k3: ``exp(r) - r - 1`` with ``r = ref - new``
            log-probabilities of the taken action.
        entropy_coef: weight of the entropy bonus.
        epochs: optimiser passes over each update's batch (the first pass has ratio 1).
        minibatches: minibatches per pass.
        max_grad_norm: gradient-norm clip (``None``: no clipping).
        adv_eps: added to the group's standard deviation.
        scale_advantages: divide by the group's std, as in the original GRPO. Off by default (only
            the group mean is subtracted, as in Dr. GRPO): with a cost term in the return, a group
            whose episodes all fail differs only by a few hundredths of cost, and dividing by that
            tiny std turns "spent fewer frames" into full-size advantages, which drives policies to
            answer before looking at anything.
        loss_aggregation: ``"step"`` averages the loss over all actions of the batch;
            ``"episode"`` averages within each episode first, then over episodes.

    Execution:
        seed: seeds the policy's sampling, the task draw and the group ids.
        num_envs: environments stepped together (a group of G episodes runs in
            ``ceil(G / num_envs)`` waves when smaller than G; several groups share a wave when
            larger).
        vectorization: ``"sync"`` (one process), ``"async"`` (one process per env) or ``"ray"``
            (one Ray actor per env, see :mod:`cvr_gym.envs.ray_vector`).
        ray_address: the Ray cluster for ``vectorization="ray"`` (``None`` or ``"local"``: a local Ray).
        torch_threads: ``torch.set_num_threads`` during training (1 keeps rollouts cheap on
            shared cores).
        eval_every: evaluate every this many updates (0: only at the end).
        eval_episodes: episodes per evaluation (``None``: every task of ``eval_split`` once);
            evaluation is greedy (arg-max actions).
        log_dir: folder for ``log.jsonl``, ``checkpoints/`` and TensorBoard events.
        checkpoint_every: save a checkpoint every this many updates (0: only at the end of
            :meth:`GRPOTrainer.train`).
        tensorboard: also write TensorBoard scalars (``torch.utils.tensorboard``).
    """

    # environment
    env_id: str = "CVRSim-v0"
    suite: str = "default"
    split: str = "train"
    eval_split: str | None = "test"
    select_split: str | None = None
    families: list[str] | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    max_steps: int | None = None
    # wrappers
    wrappers: str = "classic"
    catalogue: dict[str, Any] = field(default_factory=dict)
    encoder: dict[str, Any] = field(default_factory=dict)
    # GRPO
    group_size: int = 8
    tasks_per_update: int = 8
    updates: int = 100
    learning_rate: float = 3e-4
    lr_decay: bool = False
    lr_final: float = 0.1
    clip_epsilon: float = 0.2
    kl_coef: float = 0.0
    entropy_coef: float = 0.01
    epochs: int = 2
    minibatches: int = 1
    max_grad_norm: float | None = 1.0
    adv_eps: float = 1e-6
    scale_advantages: bool = False
    loss_aggregation: str = "step"
    # execution
    seed: int = 0
    num_envs: int = 8
    vectorization: str = "sync"
    ray_address: str | None = None
    torch_threads: int = 1
    eval_every: int = 10
    eval_episodes: int | None = None
    log_dir: str = "runs/grpo"
    checkpoint_every: int = 10
    tensorboard: bool = False

    def __post_init__(self) -> None:
        if self.group_size < 2:
            raise ValueError("group_size must be at least 2 (advantages are relative to the group)")
        if self.tasks_per_update < 1 or self.epochs < 1 or self.minibatches < 1 or self.num_envs < 1:
            raise ValueError("tasks_per_update, epochs, minibatches and num_envs must be positive")
        if self.vectorization not in ("sync", "async", "ray"):
            raise ValueError("vectorization must be 'sync', 'async' or 'ray'")
        if self.wrappers not in ("classic", "search"):
            raise ValueError("wrappers must be 'classic' or 'search'")
        if self.loss_aggregation not in ("step", "episode"):
            raise ValueError("loss_aggregation must be 'step' or 'episode'")
        if not 0 < self.clip_epsilon < 1:
            raise ValueError("clip_epsilon must be in (0, 1)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GRPOConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def env_make_kwargs(self, split: str | None) -> dict[str, Any]:
        """Keyword arguments for ``gym.make(self.env_id, ...)`` on ``split``."""
        kwargs = dict(self.env_kwargs)
        kwargs.update(suite=self.suite, split=split)
        if self.families:
            kwargs["families"] = list(self.families)
        if self.max_steps is not None:
            kwargs["max_steps"] = int(self.max_steps)
        return kwargs
