"""Command-line flags derived from a config dataclass, as TRL's parser derives them.

Each field becomes ``--field-name`` (underscores to dashes) with its type from the annotation
and its help from the class docstring's ``name: text`` entries, so a new config field is a new
flag with no CLI edit. Every flag defaults to ``None`` ("not given"): :func:`config_from_args`
then applies only what was given over a base (the config's defaults, a recipe, a checkpoint).

Types: ``bool`` becomes a switch pair (``--lr-decay`` / ``--no-lr-decay``); ``int``, ``float``
and ``str`` (optional or not) take one value, ``none`` giving ``None`` for optional fields;
``list[int]``/``list[str]`` take one or more values, each of them comma-separated
(``--families CC,AUD`` or ``--sft-data a.jsonl b.jsonl``); ``dict`` fields take JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

_NONE_WORDS = ("none", "null")


class _GivenNone:
    """``none`` given for an optional field: unlike a missing flag (``None``), it sets the field to ``None``."""

    def __repr__(self) -> str:
        return "none"


GIVEN_NONE = _GivenNone()


def field_help(cls: type) -> dict[str, str]:
    """``{field: text}`` from the docstring's indented ``name: text`` (or ``a, b: text``) entries."""
    doc = inspect.getdoc(cls) or ""
    out: dict[str, str] = {}
    names: list[str] = []
    indent = 0
    for line in doc.splitlines():
        match = re.match(r"^( +)([a-z_][a-z0-9_]*(?:,\s*[a-z_][a-z0-9_]*)*):\s+(.*)$", line)
        depth = len(line) - len(line.lstrip(" "))
        if names and line.strip() and depth > indent:  # a continuation line of the entry above
            for name in names:
                out[name] += " " + line.strip()
        elif match:
            indent = len(match.group(1))
            names = [n.strip() for n in match.group(2).split(",")]
            for name in names:
                out[name] = match.group(3).strip()
        else:
            names = []
    return {k: re.sub(r"``([^`]*)``", r"\1", re.sub(r":[a-z]+:`~?([^`]*)`", r"\1", v)) for k, v in out.items()}


def _kind(hint: Any) -> tuple[Any, bool]:
    """The annotation without ``None``, and whether ``None`` is allowed."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else hint), True
    return hint, False


def _parser_for(hint: Any, optional: bool, flag: str) -> Any:
    origin = typing.get_origin(hint) or hint
    if origin in (dict, Mapping):
        def parse(text: str) -> Any:
            try:
                value = json.loads(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{flag} takes JSON, e.g. '{{\"key\": 1}}'") from None
            if not isinstance(value, dict):
                raise argparse.ArgumentTypeError(f"{flag} takes a JSON object")
            return value
    elif origin in (list, tuple):
        (item,) = typing.get_args(hint)[:1] or (str,)

        def parse(text: str) -> Any:  # one command-line value: its comma-separated items
            try:
                return [item(x.strip()) for x in text.split(",") if x.strip()]
            except ValueError:
                raise argparse.ArgumentTypeError(f"{flag} takes a comma-separated list of {item.__name__}") from None
    else:
        def parse(text: str) -> Any:
            return origin(text)

    def parse_optional(text: str) -> Any:
        return GIVEN_NONE if text.strip().lower() in _NONE_WORDS else parse(text)

    chosen = parse_optional if optional else parse
    chosen.__name__ = getattr(origin, "__name__", "value")  # argparse says "invalid int value: 'x'"
    return chosen


def add_config_arguments(parser: argparse.ArgumentParser | Any, cls: type, exclude: Iterable[str] = (),
                         help: Mapping[str, str] | None = None, title: str | None = None,
                         replace: bool = False, defaults: Mapping[str, Any] | None = None) -> list[str]:
    """Add one flag per field of the dataclass ``cls`` (but ``exclude``) to ``parser`` (or a new
    argument group titled ``title``); returns the fields added. Flags the parser already has are
    skipped, or with ``replace`` (a parser with ``conflict_handler="resolve"``) redefined.
    ``help`` overrides the docstring's text for some fields; ``defaults`` are the values the help
    shows as defaults (the config's own by default; a CLI whose base is a recipe shows the recipe's)."""
    target = parser.add_argument_group(title) if title else parser
    existing = {s for a in parser._actions for s in a.option_strings}
    hints = typing.get_type_hints(cls)
    texts = {**field_help(cls), **(help or {})}
    added = []
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        if f.name in exclude or (flag in existing and not replace):
            continue
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
        default = (defaults or {}).get(f.name, default)
        text = texts.get(f.name, f.name.replace("_", " ")).replace("%", "%%")
        hint, optional = _kind(hints[f.name])
        if hint is bool:
            target.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{text} (default {'on' if default else 'off'})")
        else:
            shown = json.dumps(default) if isinstance(default, dict) else (
                (",".join(map(str, default)) or "none") if isinstance(default, list) else default)
            many = (typing.get_origin(hint) or hint) in (list, tuple)
            target.add_argument(flag, type=_parser_for(hint, optional, flag), default=None, nargs="+" if many else None,
                                metavar=f.name.upper(), help=f"{text} (default {shown})")
        added.append(f.name)
    return added


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` whose flags were given on the command line (``none`` as ``None``)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
    out = {}
    for name, value in values.items():
        if isinstance(value, list) and all(isinstance(v, list) or v is GIVEN_NONE for v in value):
            value = GIVEN_NONE if GIVEN_NONE in value else [x for part in value for x in part]  # nargs="+" of lists
        out[name] = None if value is GIVEN_NONE else value
    return out


def config_from_args(args: argparse.Namespace, cls: type, base: Mapping[str, Any] | None = None,
                     **overrides: Any) -> Any:
    """``cls(**{**base, **flags given, **overrides})``: a flag overrides the base only when given.
    Dict fields given as flags are merged into the base's (``--env-kwargs '{"frame_budget": 512}'``
    keeps a recipe's reward settings)."""
    data = dict(base or {})
    for name, value in given(args, cls).items():
        data[name] = {**data[name], **value} if isinstance(value, dict) and isinstance(data.get(name), dict) else value
    data.update(overrides)
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


__all__ = ["add_config_arguments", "config_from_args", "field_help", "given"]
