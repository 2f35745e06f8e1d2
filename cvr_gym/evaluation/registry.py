"""Agent specs to agents: ``make_agent("single-pass:32", seed=0)``.

A spec names an agent in one of three ways:

- ``NAME`` or ``NAME:ARG``, where ``NAME`` is registered with :func:`register_agent` or declared
  by an installed package in the ``cvr_gym.agents`` entry-point group (the reference agents of
  ``baselines/`` are declared that way in this project's ``pyproject.toml``)::

      [project.entry-points."cvr_gym.agents"]
      my-agent = "my_package.agents:make_agent"

- ``module.path:factory`` or ``module.path:factory:ARG``: an importable callable (or class) that
  returns an agent, for a user's own agent with no packaging at all
  (``cvr-gym eval --agent mymodule:make_agent``).

A factory is called with the keyword arguments it declares among ``arg`` (the text after the
name, or ``None``), ``seed`` and ``action_space`` (the env's
:class:`~cvr_gym.core.spaces.ToolCallSpace`). Built-in agents read ``ARG`` as comma-separated values
and ``key=value`` options (:func:`parse_args`). Factories are imported only when an agent is made,
so agents with heavy dependencies cost nothing until used. A factory (or the class it belongs to)
with ``privileged_info = True`` reads the gold evidence spans: the env must be made with
``privileged_info=True`` (:func:`needs_privileged_info`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass
from importlib import metadata
from typing import Any

ENTRY_POINT_GROUP = "cvr_gym.agents"


class AgentSpecError(ValueError):
    """An agent spec that names no usable agent (the message says why, in one line)."""


@dataclass(frozen=True)
class _Registered:
    target: str
    help: str = ""
    privileged: bool | None = None  # None: read it from the factory


_REGISTRY: dict[str, _Registered] = {}


def register_agent(name: str, target: str, help: str = "", *, privileged: bool = False,
                   overwrite: bool = False) -> None:
    """Map ``name`` to a factory given by import path (``"package.module:callable"``).

    ``privileged=True`` marks agents that read the gold evidence spans (the env must be made with
    ``privileged_info=True``).
    """
    if ":" not in target:
        raise ValueError(f"target must be 'module:attr', got {target!r}")
    known = _REGISTRY.get(name)
    if known is not None and not overwrite and known.target != target:
        raise ValueError(f"agent {name!r} is already registered as {known.target!r}")
    _REGISTRY[name] = _Registered(target, help, privileged)


def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _known() -> dict[str, _Registered]:
    """Registered agents over declared ones (a registration overrides an entry point)."""
    return {**{name: _Registered(value) for name, value in _entry_points().items()}, **_REGISTRY}


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
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _import_path(spec: str) -> tuple[Any, str | None] | None:
    """``module:factory[:ARG]`` -> (factory, ARG), or ``None`` when ``spec`` is not an import path."""
    module_name, sep, rest = str(spec).strip().partition(":")
    if not sep or not rest:
        return None
    attr, _, arg = rest.partition(":")
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
    except (ImportError, ValueError):  # a parent package that is missing, or a malformed name
        return None
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # noqa: BLE001 - the user's module is broken: say so in one line
        raise AgentSpecError(f"agent spec {spec!r}: importing {module_name!r} failed: "
                             f"{type(err).__name__}: {err}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise AgentSpecError(f"agent spec {spec!r}: module {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise AgentSpecError(f"agent spec {spec!r}: {module_name}:{attr} is not callable")
    return obj, (arg or None)


def _lookup(spec: str) -> tuple[Any, str | None, _Registered | None]:
    """The factory a spec names, its argument, and its registration (``None`` for import paths)."""
    name, arg = parse_spec(spec)
    known = _known()
    if name in known:
        entry = known[name]
        try:
            return _resolve(entry.target), arg, entry
        except ImportError as err:
            raise AgentSpecError(f"agent {name!r} is registered ({entry.target}) but its module is not available: "
                                 f"{err}") from None
        except AttributeError as err:
            raise AgentSpecError(f"agent {name!r}: cannot find {entry.target}: {err}") from None
    found = _import_path(spec)
    if found is None:
        raise AgentSpecError(f"unknown agent {name!r}: not a registered agent ({', '.join(sorted(known))}) "
                             f"nor an importable 'module:factory'")
    return found[0], found[1], None


def agent_factory(spec: str) -> Any:
    """Import and return the factory of the agent named by ``spec`` without building the agent
    (a cheap check that a spec is usable before loading models)."""
    return _lookup(spec)[0]


def _declares_privileged(factory: Any) -> bool:
    owner = getattr(factory, "__self__", None)  # a classmethod: the flag may sit on its class
    return bool(getattr(factory, "privileged_info", False) or getattr(owner, "privileged_info", False))


def needs_privileged_info(spec: str) -> bool:
    """Whether the agent named by ``spec`` reads gold evidence spans from the reset info."""
    factory, _, entry = _lookup(spec)
    if entry is not None and entry.privileged is not None:
        return entry.privileged
    return _declares_privileged(factory)


def _call(factory: Any, arg: str | None, seed: int, action_space: Any) -> Any:
    offered = {"arg": arg, "seed": seed, "action_space": action_space}
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin without a signature: call it bare
        return factory()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return factory(**offered)
    return factory(**{k: v for k, v in offered.items() if k in params})


def make_agent(spec: str, seed: int = 0, action_space: Any | None = None) -> Any:
    """Build the agent named by ``spec`` (see the module docstring and :func:`available_agents`).

    ``seed`` seeds the agent's randomness; ``action_space`` is the env's action space, from which
    agents read per-call limits (frames per target, targets per call).
    """
    factory, arg, _ = _lookup(spec)
    try:
        agent = _call(factory, arg, seed, action_space)
    except TypeError as err:  # the factory does not take what a spec offers
        raise AgentSpecError(f"agent spec {spec!r}: the factory could not be called: {err}") from None
    missing = [m for m in ("reset", "act") if not callable(getattr(agent, m, None))]
    if missing:
        raise AgentSpecError(f"agent spec {spec!r} made a {type(agent).__name__}, which has no "
                             f"{' or '.join(missing)}() (see cvr_gym.evaluation.Agent)")
    if not getattr(agent, "name", None):
        try:
            agent.name = str(spec)
        except AttributeError:
            raise AgentSpecError(f"agent spec {spec!r} made an agent with no name") from None
    return agent


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def available_agents() -> dict[str, str]:
    """Known agent names (registered and declared by installed packages) and a line on each."""
    out = {}
    for name, entry in sorted(_known().items()):
        text = entry.help
        if not text:
            try:
                text = _first_line(_resolve(entry.target))
            except Exception as err:  # noqa: BLE001 - a broken plug-in must not hide the others
                text = f"(cannot load {entry.target}: {type(err).__name__})"
        out[name] = text
    return out
