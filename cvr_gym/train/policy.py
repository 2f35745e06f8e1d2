"""``MLPPolicy``: a small masked policy over the VectorObservation + DiscreteActions wrappers."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

_NEG = -1e9  # logit of a masked action (finite, so masked rows never produce NaNs)


class MLPPolicy(nn.Module):
    """A multilayer perceptron from the flattened observation dict to masked action logits.

    ## Description

    The observation keys (sorted by name) are flattened and concatenated, passed through
    ``hidden_sizes`` layers with ``activation`` and a linear head with one logit per catalogue
    action. Masked actions get a logit of -1e9, so they are never sampled. It is the policy the
    GRPO trainer (:class:`~cvr_gym.train.grpo.GRPOTrainer`) trains by default; small enough to
    train on two CPU cores.

    ## Action Space

    ``Discrete(n_actions)``: the flat :class:`~cvr_gym.wrappers.catalogue.ActionCatalogue`.

    ## Observation Space

    A ``Dict`` of ``Box`` (the :class:`~cvr_gym.wrappers.VectorObservation` encoding), given as a
    mapping of key to shape.

    ## Arguments

    - ``obs_shapes``: ``{key: shape}`` of the observation dict (or a gymnasium ``Dict`` space).
    - ``n_actions``: number of discrete actions.
    - ``hidden_sizes``: widths of the hidden layers (default ``(256, 256)``).
    - ``activation``: ``"tanh"`` (default) or ``"relu"``.
    - ``action_groups``: optional group id per action (e.g. 0 observe, 1 listen, 2 answer). The
      policy is then hierarchical: ``log p(a) = log p(group) + log p(a | group)`` with one extra
      logit per group, each softmax over the valid members only. Without it, many similar
      actions (dozens of windows) split the probability mass, and the single most likely action
      (what greedy play takes) can be one that is unlikely as a *kind* (e.g. answering before
      looking at anything while looking has 90 % of the mass); with groups, greedy play first
      picks the most likely kind, then its most likely member.

    ## Interface used by the trainer

    ``forward(obs, mask) -> logits`` with ``obs`` a dict of float tensors ``(batch, *shape)`` and
    ``mask`` a bool tensor ``(batch, n_actions)``; :meth:`config` / :meth:`from_config` rebuild it
    from a checkpoint. Any ``nn.Module`` with the same three methods can be trained instead.
    """

    def __init__(self, obs_shapes: Any, n_actions: int, hidden_sizes: Sequence[int] = (256, 256),
                 activation: str = "tanh", action_groups: Sequence[int] | None = None):
        super().__init__()
        if hasattr(obs_shapes, "spaces"):
            obs_shapes = {k: tuple(s.shape) for k, s in obs_shapes.spaces.items()}
        self.obs_shapes = {k: tuple(int(x) for x in obs_shapes[k]) for k in sorted(obs_shapes)}
        self.n_actions = int(n_actions)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        self.activation = activation
        act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
        in_dim = sum(int(np.prod(s)) for s in self.obs_shapes.values())
        layers: list[nn.Module] = []
        for h in self.hidden_sizes:
            layers += [nn.Linear(in_dim, h), act()]
            in_dim = h
        self.body = nn.Sequential(*layers)
        self.action_groups = [int(g) for g in action_groups] if action_groups is not None else None
        self.n_groups = 0
        if self.action_groups is not None:
            if len(self.action_groups) != self.n_actions:
                raise ValueError("action_groups needs one group id per action")
            self.n_groups = max(self.action_groups) + 1
            onehot = torch.zeros(self.n_groups, self.n_actions, dtype=torch.bool)
            onehot[torch.as_tensor(self.action_groups), torch.arange(self.n_actions)] = True
            self.register_buffer("_group_members", onehot, persistent=False)
            self.register_buffer("_group_index", torch.as_tensor(self.action_groups, dtype=torch.long),
                                 persistent=False)
        self.head = nn.Linear(in_dim, self.n_actions + self.n_groups)
        for m in self.body:
            if isinstance(m, nn.Linear):
                nn.init.orthogonal_(m.weight, gain=float(np.sqrt(2)))
                nn.init.zeros_(m.bias)
        nn.init.orthogonal_(self.head.weight, gain=0.01)  # near-uniform start over valid actions
        nn.init.zeros_(self.head.bias)

    def flatten(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        parts = [obs[k].reshape(obs[k].shape[0], -1) for k in self.obs_shapes]
        return torch.cat(parts, dim=1).float()

    def forward(self, obs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None) -> torch.Tensor:
        out = self.head(self.body(self.flatten(obs)))
        logits = out[:, : self.n_actions]
        if mask is not None:
            mask = mask.bool()
            logits = logits.masked_fill(~mask, _NEG)
        if not self.n_groups:
            return logits
        # hierarchical: log p(group) + log p(action | group), each over valid entries only
        members = self._group_members  # (G, A)
        valid = mask if mask is not None else torch.ones_like(logits, dtype=torch.bool)
        within = torch.full_like(logits, _NEG)
        group_valid = []
        for g in range(self.n_groups):
            sel = members[g] & valid  # (B, A)
            lse = torch.logsumexp(logits.masked_fill(~sel, _NEG), dim=-1, keepdim=True)
            within = torch.where(sel, logits - lse, within)
            group_valid.append(sel.any(dim=-1))
        g_logits = out[:, self.n_actions:].masked_fill(~torch.stack(group_valid, dim=-1), _NEG)
        g_logp = torch.log_softmax(g_logits, dim=-1)
        logp = within + g_logp.gather(1, self._group_index.expand(logits.shape[0], -1))
        return logp.masked_fill(~valid, _NEG)

    def greedy(self, logits: torch.Tensor) -> torch.Tensor:
        """The deterministic action for each row of ``forward``'s output.

        Flat policies take the arg-max; hierarchical ones take the most likely group, then its most
        likely member.
        """
        if not self.n_groups:
            return logits.argmax(dim=-1)
        probs = logits.exp()  # (B, A); masked entries are 0
        group_p = probs @ self._group_members.T.to(probs.dtype)  # (B, G)
        best = group_p.argmax(dim=-1)  # (B,)
        in_best = self._group_members[best]  # (B, A)
        return logits.masked_fill(~in_best, 2 * _NEG).argmax(dim=-1)

    def config(self) -> dict[str, Any]:
        return {"class": f"{type(self).__module__}:{type(self).__qualname__}",
                "obs_shapes": {k: list(v) for k, v in self.obs_shapes.items()}, "n_actions": self.n_actions,
                "hidden_sizes": list(self.hidden_sizes), "activation": self.activation,
                "action_groups": self.action_groups}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "MLPPolicy":
        kwargs = {k: v for k, v in config.items() if k != "class"}
        return cls(**kwargs)


def greedy_actions(policy: nn.Module, logits: torch.Tensor) -> torch.Tensor:
    """``policy.greedy(logits)`` when the policy defines it, else the arg-max."""
    fn = getattr(policy, "greedy", None)
    return fn(logits) if callable(fn) else logits.argmax(dim=-1)


def policy_from_config(config: Mapping[str, Any]) -> nn.Module:
    """Rebuild any policy from its :meth:`config` (which names its class as ``module:Class``)."""
    module_name, _, qualname = str(config.get("class", "cvr_gym.train.policy:MLPPolicy")).partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj.from_config(config)


def obs_to_tensors(obs: Mapping[str, np.ndarray], batched: bool = True) -> dict[str, torch.Tensor]:
    """numpy observation dict -> float tensors (adds a batch axis when ``batched=False``)."""
    out = {}
    for k, v in obs.items():
        t = torch.as_tensor(np.asarray(v, dtype=np.float32))
        out[k] = t if batched else t.unsqueeze(0)
    return out


def masked_log_softmax(logits: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(logits, dim=-1)


def masked_entropy(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Entropy over the valid actions only (masked logits contribute exactly 0)."""
    logp = torch.log_softmax(logits, dim=-1)
    p = logp.exp()
    return -(torch.where(mask, p * logp, torch.zeros_like(p))).sum(-1)
