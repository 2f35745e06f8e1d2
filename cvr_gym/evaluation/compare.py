"""Sim vs real: the same agent on the same tasks in ``CVRSim-v0`` and ``CVRReal-v0``.

For every task the agent plays one episode in each env with the same seed (``paired`` mode), or
the simulator episode's actions are replayed in the real env (``replay`` mode). A *shadow*
simulator follows the real episode action by action, so for every real step we know what the
script says the same calls should have returned; comparing the two gives per-step evidence
recall (how much of the script the real perception recovered) and precision (how much of what
it reported the script backs). Wall time is measured per step in both worlds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym

from cvr_gym.data.corpus.match import ratio
from cvr_gym.evaluation.agents import Step, play_episode
from cvr_gym.evaluation.records import jsonable
from cvr_gym.evaluation.registry import make_agent, needs_privileged_info
from cvr_gym.evaluation.trace import step_trace

#: Evidence kinds that can stand for each other (OCR text and descriptions of a frame).
_KIND_GROUP = {"visual": "visual", "object": "object", "text": "text", "speech": "audio", "sound": "audio"}


@dataclass(frozen=True)
class CompareConfig:
    """What to compare.

    Arguments:
        agent: agent spec (``"heuristic"``, ``"single-pass:8"``, ``"checkpoint:PATH"``).
        suite: a suite whose tasks have both scripts and video files (default ``"corpus"``).
        split: the split (``None``: all).
        episodes: how many tasks (``None``: all), in the seeded order ``cvr-gym eval`` uses, so a
            few episodes cover the families instead of the first family in the file.
        seed: seed for both envs and the agent.
        mode: ``"paired"`` (the agent plays in each world) or ``"replay"`` (the sim episode's
            actions are replayed in the real env).
        real_args: keyword arguments for ``CVRReal-v0`` (backends, perceiver options).
        env_args: keyword arguments for both envs (``max_steps``, ``frame_budget``, ...).
        match_threshold: similarity at which two evidence contents match (:func:`evidence_matches`).
    """

    agent: str = "heuristic"
    suite: str = "corpus"
    split: str | None = "test"
    episodes: int | None = None
    seed: int = 0
    mode: Literal["paired", "replay"] = "paired"
    real_args: dict[str, Any] = field(default_factory=dict)
    env_args: dict[str, Any] = field(default_factory=dict)
    match_threshold: float = 0.7


def evidence_matches(truth: Any, found: Any, threshold: float) -> bool:
    """Whether a perceived record says what a script record says: same video and kind group,
    object counts equal, other contents reading alike (:func:`~cvr_gym.data.corpus.match.ratio`
    of the normalised texts at least ``threshold``)."""
    if _KIND_GROUP.get(truth.kind) != _KIND_GROUP.get(found.kind) or truth.video != found.video:
        return False
    if truth.kind == "object" or found.kind == "object":
        return truth.content.strip().lower() == found.content.strip().lower()
    return ratio(truth.content, found.content) >= threshold


def recall_precision(truth: Sequence[Any], found: Sequence[Any], threshold: float) -> tuple[float | None, float | None]:
    """Share of ``truth`` matched by ``found`` and share of ``found`` matched by ``truth``.

    ``None`` where the denominator is empty (nothing to recover or nothing reported).
    """
    recall = (sum(any(evidence_matches(t, f, threshold) for f in found) for t in truth) / len(truth)) if truth else None
    precision = (sum(any(evidence_matches(t, f, threshold) for t in truth) for f in found) / len(found)) if found else None
    return recall, precision


def _make(env_id: str, config: CompareConfig, **extra: Any) -> gym.Env:
    import cvr_gym  # noqa: F401

    kwargs = {"suite": config.suite, "split": config.split, "disable_env_checker": True, **config.env_args, **extra}
    return gym.make(env_id, **kwargs)


class ReplayAgent:
    """Plays a recorded list of actions; stops the episode when they run out."""

    name = "replay"

    def __init__(self, actions: Sequence[Any]):
        self.actions = list(actions)
        self._next = iter(())

    def reset(self, obs: Any, info: dict[str, Any]) -> None:
        self._next = iter(self.actions)

    def act(self, obs: Any, info: dict[str, Any]) -> Any:
        try:
            return next(self._next)
        except StopIteration:
            raise EpisodeAbandoned("the recorded actions ran out before the episode ended") from None


class EpisodeAbandoned(RuntimeError):
    """Raised by :class:`ReplayAgent` when it has nothing left to play."""


def _play(env: gym.Env, agent: Any, task_id: str, seed: int, shadow: gym.Env | None = None,
          threshold: float = 0.7) -> dict[str, Any]:
    """One episode; with ``shadow``, step a simulator alongside and score evidence recall and
    precision per step."""
    if shadow is not None:
        shadow.reset(seed=seed, options={"task_id": task_id})
    steps: list[dict[str, Any]] = []
    taken: list[Any] = []

    def on_step(step: Step) -> None:
        info = step.info
        taken.append(step.action)
        row = {"wall_s": step.wall_s, "frames": sum(c.get("frames", 0) for c in info["call_costs"]),
               "evidence": len(info["evidence"])}
        row.update(step_trace(info), reward=step.reward, tool_calls=jsonable(info["tool_calls"]),
                   parse_error=info.get("parse_error"), observation=step.obs)  # for the episode viewer
        if shadow is not None:
            truth = shadow.step(step.action)[4]["evidence"]
            row["recall"], row["precision"] = recall_precision(truth, info["evidence"], threshold)
        steps.append(row)

    info = play_episode(env, agent, options={"task_id": task_id}, seed=seed, env_seed=seed, on_step=on_step,
                        catch_errors=isinstance(agent, ReplayAgent))
    answer = next((c["arguments"]["answer"] for c in info.get("tool_calls", []) if c["name"] == "answer"), None)
    return {"score": info.get("score") or 0.0, "answer": answer, "steps": steps, "actions": taken,
            "frames": info["totals"]["frames"], "family": info["family"]}


def _spread_tasks(tasks: list[Any], episodes: int | None, seed: int) -> list[Any]:
    """The first ``episodes`` tasks of eval's seeded order (each task at most once)."""
    from cvr_gym.evaluation.episodes import plan_episodes

    if episodes is None or episodes >= len(tasks):
        return tasks
    by_id = {t.id: t for t in tasks}
    return [by_id[ep.task_id] for ep in plan_episodes([(t.id, t.family) for t in tasks], episodes, seed)]


class TaskComparer:
    """The envs and agent of a comparison, built once; :meth:`compare` plays one task in both worlds."""

    def __init__(self, config: CompareConfig):
        self.config = config
        privileged = {"privileged_info": True} if needs_privileged_info(config.agent) else {}
        self.sim = _make("CVRSim-v0", config, **privileged)
        try:
            # A private perception cache: results cached by earlier runs in this process would make real
            # steps look free and the speed comparison meaningless.
            real_args = dict(config.real_args)
            real_args["perceiver_options"] = {"cache": "private", **real_args.get("perceiver_options", {})}
            self.real = _make("CVRReal-v0", config, **real_args, **privileged)
            self.shadow = _make("CVRSim-v0", config)
            self.agent = make_agent(config.agent, config.seed, self.sim.action_space)
        except BaseException:
            self.close()
            raise

    def tasks(self) -> list[Any]:
        return _spread_tasks(list(self.sim.unwrapped.suite), self.config.episodes, self.config.seed)

    def compare(self, task_id: str) -> dict[str, Any]:
        config = self.config
        sim_ep = _play(self.sim, self.agent, task_id, config.seed)
        real_agent = ReplayAgent(sim_ep["actions"]) if config.mode == "replay" else self.agent
        real_ep = _play(self.real, real_agent, task_id, config.seed, shadow=self.shadow,
                        threshold=config.match_threshold)
        return {"task_id": task_id, "family": sim_ep["family"], "sim": _strip(sim_ep), "real": _strip(real_ep),
                "agree": sim_ep["answer"] == real_ep["answer"]}

    def close(self) -> None:
        for name in ("sim", "real", "shadow"):
            env = getattr(self, name, None)
            if env is not None:
                setattr(self, name, None)
                env.close()


def run_comparison(config: CompareConfig, progress: Callable[[Iterable], Iterable] | None = None,
                   map_tasks: Callable[[CompareConfig, list[str]], Iterable[dict[str, Any]]] | None = None
                   ) -> dict[str, Any]:
    """Play every task in both worlds and return per-episode results plus a summary.

    ``map_tasks(config, task_ids)``, when given, compares the tasks elsewhere (for example on Ray
    workers, :func:`cvr_gym.integrations.ray.ray_map_tasks`) and yields the episodes in order.
    """
    comparer = TaskComparer(config)
    try:
        task_ids = [t.id for t in comparer.tasks()]
        if map_tasks is not None:
            comparer.close()
            results = map_tasks(config, task_ids)
            episodes = list(progress(results) if progress else results)
        else:
            episodes = [comparer.compare(t) for t in (progress(task_ids) if progress else task_ids)]
    finally:
        comparer.close()
    return {"config": {**config.__dict__}, "episodes": episodes, "summary": summarise(episodes)}


def _strip(ep: dict[str, Any]) -> dict[str, Any]:
    from cvr_gym.evaluation.records import jsonable

    out = {k: v for k, v in ep.items() if k != "actions"}
    out["actions"] = jsonable(ep["actions"])
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def summarise(episodes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per family and overall: scores in each world, agreement, recall/precision, costs, speed."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ep in episodes:
        groups[ep["family"]].append(ep)
        groups["ALL"].append(ep)
    summary = {}
    for name, eps in sorted(groups.items(), key=lambda kv: (kv[0] == "ALL", kv[0])):
        sim_steps = [s for e in eps for s in e["sim"]["steps"]]
        real_steps = [s for e in eps for s in e["real"]["steps"]]
        sim_wall = _mean(s["wall_s"] for s in sim_steps)
        real_wall = _mean(s["wall_s"] for s in real_steps)
        sim_score = _mean(e["sim"]["score"] for e in eps)
        real_score = _mean(e["real"]["score"] for e in eps)
        summary[name] = {
            "n": len(eps),
            "sim_score": sim_score,
            "real_score": real_score,
            "real_over_sim": (real_score / sim_score) if sim_score else None,
            "answer_agreement": _mean(float(e["agree"]) for e in eps),
            "evidence_recall": _mean(s.get("recall") for s in real_steps),
            "evidence_precision": _mean(s.get("precision") for s in real_steps),
            "sim_frames": _mean(e["sim"]["frames"] for e in eps),
            "real_frames": _mean(e["real"]["frames"] for e in eps),
            "sim_step_ms": None if sim_wall is None else sim_wall * 1e3,
            "real_step_ms": None if real_wall is None else real_wall * 1e3,
            "speed_ratio": (real_wall / sim_wall) if sim_wall and real_wall else None,
        }
    return summary


COLUMNS = [("n", "n", "{:d}"), ("sim_score", "sim score", "{:.3f}"), ("real_score", "real score", "{:.3f}"),
           ("real_over_sim", "real/sim", "{:.2f}"), ("answer_agreement", "agree", "{:.2f}"),
           ("evidence_recall", "recall", "{:.2f}"), ("evidence_precision", "precision", "{:.2f}"),
           ("sim_frames", "frames sim", "{:.1f}"), ("real_frames", "frames real", "{:.1f}"),
           ("sim_step_ms", "sim ms/step", "{:.3f}"), ("real_step_ms", "real ms/step", "{:.0f}"),
           ("speed_ratio", "real/sim time", "{:,.0f}x")]


def summary_table(summary: dict[str, Any], title: str = "") -> Any:
    """A rich table of :func:`summarise`'s output."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("family")
    for _, label, _ in COLUMNS:
        table.add_column(label, justify="right")
    for name, row in summary.items():
        table.add_row(name, *("-" if row[key] is None else fmt.format(row[key]) for key, _, fmt in COLUMNS))
    return table


def plot_comparison(summary: dict[str, Any], out: str | Path, title: str = "") -> Path:
    """Bars of sim and real score per family, with evidence recall as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    x = range(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(names) + 2), 4))
    width = 0.38
    ax.bar([i - width / 2 for i in x], [summary[n]["sim_score"] or 0 for n in names], width, label="CVRSim-v0 score")
    ax.bar([i + width / 2 for i in x], [summary[n]["real_score"] or 0 for n in names], width, label="CVRReal-v0 score")
    ax.plot(list(x), [summary[n]["evidence_recall"] or 0 for n in names], "k.--", label="evidence recall (real)")
    ax.set_xticks(list(x), [f"{n}\nn={summary[n]['n']}" for n in names])  # how much each bar rests on
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score / recall")
    ratio = summary.get("ALL", {}).get("speed_ratio")
    ax.set_title(title + (f"  (a real step takes {ratio:,.0f}x a sim step)" if ratio else ""))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def script_agreement(reference: Any, perceived: Any, slack: float = 1.0, threshold: float = 0.8) -> dict[str, dict[str, Any]]:
    """Per kind: how many items of the reference scripts a perceived suite's scripts have (same
    kind, contents matching, times overlapping within ``slack`` s), and how many perceived items
    the reference backs. Both are :class:`~cvr_gym.core.suites.Suite` s; videos are matched by
    path and each is counted once. This checks ``cvr-gym build-scripts`` output."""
    def scripts(suite: Any) -> dict[str, tuple]:
        return {v.path: v.script for t in suite for v in t.videos if v.path}

    def found(item: Any, pool: tuple) -> bool:
        return any(o.kind == item.kind and o.start <= item.end + slack and o.end >= item.start - slack
                   and evidence_matches(_as_evidence(item), _as_evidence(o), threshold) for o in pool)

    ref, got = scripts(reference), scripts(perceived)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # recalled, reference, backed, perceived
    for path, items in ref.items():
        other = got.get(path, ())
        for item in items:
            counts[item.kind][0] += found(item, other)
            counts[item.kind][1] += 1
        for item in other:
            counts[item.kind][2] += found(item, items)
            counts[item.kind][3] += 1
    return {k: {"recall": r / n if n else None, "reference": n, "precision": b / m if m else None, "perceived": m}
            for k, (r, n, b, m) in sorted(counts.items())}


def _as_evidence(item: Any) -> Any:
    from cvr_gym.core.evidence import Evidence

    return Evidence(1, item.start, item.end, item.kind, item.content)
