"""Agent specs to agents: ``make_agent("single-pass:32", seed=0)``.

A spec is ``NAME`` or ``NAME:ARG``; built-in agents read ``ARG`` as comma-separated values and
``key=value`` options (``single-pass:32,reader=generic``, see :func:`parse_args`). Each name maps to the import path of a factory
``factory(arg, seed, action_space) -> Agent`` (``"module:attr"`` or ``"module:Class.method"``),
imported only when the agent is made, so agents with heavy dependencies (LLMs, checkpoints) or
modules written later plug in with one :func:`register_agent` line and cost nothing until used.
"""

from __future__ import annotations

import importlib
from typing import Any

from baselines.base import Agent

_REGISTRY: dict[str, str] = {}
_HELP: dict[str, str] = {}
_PRIVILEGED: set[str] = set()


def register_agent(name: str, target: str, help: str = "", *, privileged: bool = False,
                   overwrite: bool = False) -> None:
    """Map ``name`` to a factory given by import path (``"package.module:callable"``).

    ``privileged=True`` marks agents that read the gold evidence spans (the env must be made with
    ``privileged_info=True``).
    """
    if ":" not in target:
        raise ValueError(f"target must be 'module:attr', got {target!r}")
    if name in _REGISTRY and not overwrite and _REGISTRY[name] != target:
        raise ValueError(f"agent {name!r} is already registered as {_REGISTRY[name]!r}")
    _REGISTRY[name] = target
    _HELP[name] = help
    if privileged:
        _PRIVILEGED.add(name)
    else:
        _PRIVILEGED.discard(name)


def available_agents() -> dict[str, str]:
    """Registered agent names and a one-line description of each."""
    return {name: _HELP[name] for name in sorted(_REGISTRY)}


def needs_privileged_info(spec: str) -> bool:
    """Whether the agent named by ``spec`` reads gold evidence spans from the reset info."""
    return parse_spec(spec)[0] in _PRIVILEGED


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"single-pass:32"`` -> ``("single-pass", "32")``; ``"random"`` -> ``("random", None)``."""
    name, sep, arg = str(spec).strip().partition(":")
    return name, (arg if sep else None)


def parse_args(arg: str | None) -> tuple[list[str], dict[str, str]]:
    """Split a spec argument into positional and ``key=value`` parts, comma-separated.

    ``"32,reader=generic"`` -> ``(["32"], {"reader": "generic"})``. Factories whose argument is
    free text (a path, a model name) read ``arg`` themselves instead.
    """
    positional: list[str] = []
    options: dict[str, str] = {}
    for part in (arg or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if sep:
            options[key.strip()] = value.strip()
        else:
            positional.append(part)
    return positional, options


def _resolve(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def agent_factory(spec: str) -> Any:
    """Import and return the factory of the agent named by ``spec`` without building the agent
    (cheap check that a spec is usable before loading models)."""
    name, _ = parse_spec(spec)
    if name not in _REGISTRY:
        raise ValueError(f"unknown agent {name!r}; known agents: {', '.join(sorted(_REGISTRY))}")
    target = _REGISTRY[name]
    try:
        factory = _resolve(target)
    except ModuleNotFoundError as err:
        raise ValueError(f"agent {name!r} is registered ({target}) but its module is not available: {err}") from None
    except AttributeError as err:
        raise ValueError(f"agent {name!r}: cannot find {target}: {err}") from None
    return factory


def make_agent(spec: str, seed: int = 0, action_space: Any | None = None) -> Agent:
    """Build the agent named by ``spec`` (see :func:`available_agents`).

    ``seed`` seeds the agent's randomness; ``action_space`` is the env's action space, from which
    agents read per-call limits (frames per target, targets per call).
    """
    name, arg = parse_spec(spec)
    factory = agent_factory(spec)
    target = _REGISTRY[name]
    agent = factory(arg, seed, action_space)
    if not getattr(agent, "name", None):
        raise TypeError(f"agent made by {target} has no name")
    return agent


register_agent("random", "baselines.random_agent:RandomAgent.from_spec",
               "random valid tool calls, then a random answer of the right type (chance level)")
register_agent("single-pass", "baselines.single_pass:SinglePassAgent.from_spec",
               "observe every video uniformly (single-pass:N frames per video, default 32), listen to all, answer")
register_agent("oracle", "baselines.oracle:OracleAgent.from_spec",
               "observe and listen exactly at the gold evidence spans (env needs privileged_info=True)",
               privileged=True)
register_agent("heuristic", "baselines.heuristic:make_agent",
               "active search: skim, then zoom on what the question asks about")
register_agent("checkpoint", "baselines.checkpoint_agent:make_agent",
               "a trained policy: checkpoint:PATH")
register_agent("llm", "baselines.llm_agent:make_agent",
               "a chat LLM calling the tools: llm:hf:PATH, llm:openai:BASE_URL#MODEL, llm:smollm2")
