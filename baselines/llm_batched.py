"""Many LLM-master episodes at once: one batched ``generate`` per turn across the episodes.

``cvr-gym eval --agent llm:...`` plays one episode at a time, which leaves a GPU idle; this
runner keeps ``len(tasks)`` envs in lockstep and generates every open episode's reply in one
left-padded batch. The chats are :class:`~baselines.llm_agent.LLMAgent`'s own, so the numbers
match the sequential agent's (greedy decoding).
"""

from __future__ import annotations

import time
from typing import Any

from baselines.llm_agent import LLMAgent


class _Batched:
    text_calls_are_tool_calls = True  # as HFChatBackend


def evaluate_batched(model: Any, tokenizer: Any, env_id: str = "CVRSim-v0", env_kwargs: dict | None = None,
                     episodes: int = 20, compact: bool = True, max_evidence: int = 4, max_tokens: int = 256,
                     seed: int = 0, name: str = "llm") -> dict[str, Any]:
    """Play the ``episodes`` episodes that ``cvr-gym eval --episodes N --seed S`` plays, greedily.

    Returns the mean score, frames, steps, the valid-action rate (steps without a parse error)
    and per-episode rows."""
    import gymnasium as gym
    import torch

    import cvr_gym  # noqa: F401
    from cvr_gym.evaluation.episodes import plan_episodes

    envs, agents, obs_info, done = [], [], [], []
    probe = gym.make(env_id, disable_env_checker=True, **(env_kwargs or {}))
    plan = plan_episodes([(t.id, t.family) for t in probe.unwrapped.suite.tasks], episodes, seed)
    probe.close()
    for spec in plan:
        env = gym.make(env_id, disable_env_checker=True, **(env_kwargs or {}))
        obs, info = env.reset(seed=spec.env_seed, options={"task_id": spec.task_id})
        agent = LLMAgent(_Batched(), name=name, action_space=env.action_space, compact=compact,
                         max_evidence=max_evidence)
        agent.reset(obs, info)
        envs.append(env), agents.append(agent), obs_info.append((obs, info)), done.append(False)
    rows = [{"steps": 0, "invalid": 0, "return": 0.0} for _ in range(episodes)]
    tokenizer.padding_side = "left"
    start = time.perf_counter()
    while not all(done):
        open_ids = [i for i in range(episodes) if not done[i]]
        chats = [agents[i].prepare(*obs_info[i]) for i in open_ids]
        texts = [tokenizer.apply_chat_template(c, tools=agents[i].tools or None, add_generation_prompt=True,
                                               tokenize=False) for i, c in zip(open_ids, chats)]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            out = model.generate(**enc, do_sample=False, max_new_tokens=max_tokens, temperature=None, top_p=None,
                                 top_k=None, pad_token_id=tokenizer.pad_token_id)
        replies = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        for i, reply in zip(open_ids, replies):
            action = agents[i].receive({"role": "assistant", "content": reply})
            obs, reward, terminated, truncated, info = envs[i].step(action)
            obs_info[i] = (obs, info)
            rows[i]["steps"] += 1
            rows[i]["invalid"] += info.get("parse_error") is not None
            rows[i]["return"] += float(reward)
            if terminated or truncated:
                done[i] = True
                rows[i].update(score=float(info.get("score") or 0.0), answered=info.get("termination_reason") == "answer",
                               frames=int(info["totals"]["frames"]), task_id=envs[i].unwrapped.task.id)
    for env in envs:
        env.close()
    steps = sum(r["steps"] for r in rows)
    return {"episodes": episodes, "score": sum(r["score"] for r in rows) / episodes,
            "frames": sum(r["frames"] for r in rows) / episodes, "steps": steps / episodes,
            "valid_rate": 1 - sum(r["invalid"] for r in rows) / max(1, steps),
            "answered": sum(r["answered"] for r in rows) / episodes,
            "seconds": round(time.perf_counter() - start, 1), "rows": rows}
