"""Structured (guided) decoding for the ``llm:`` agent's transformers backend, with llguidance.

A reply is constrained to one to ``max_calls`` ``<tool_call>`` blocks, each holding a JSON
``{"name": ..., "arguments": ...}`` whose ``name`` is one of the env's tools and whose
``arguments`` follow that tool's JSON schema (:func:`cvr_gym.core.tools.tool_schemas`, the
schemas the env also hands to API models), written the way the SFT transcripts write them
(``json.dumps`` separators). The grammar engine is llguidance (the ``llm`` extra): it computes,
token by token, which tokens keep the reply inside the grammar; everything else is masked out.

What a JSON schema cannot say is left to the env's parser and the agent's resampling: a window
whose ``end`` is not after its ``start``, a video the task does not have.
"""

from __future__ import annotations

import json
from typing import Any


def tool_call_schema(space: Any, focus_chars: int = 0) -> dict[str, Any]:
    """JSON schema of one ``{"name", "arguments"}`` call of the env's tools (``focus`` strings cut
    to ``focus_chars`` characters when > 0; unknown keys refused)."""
    from cvr_gym.core.tools import tool_schemas

    calls = []
    for tool in tool_schemas(space):
        fn = tool["function"]
        arguments = json.loads(json.dumps(fn["parameters"]))  # a copy we may tighten
        _close_objects(arguments)
        if focus_chars > 0 and "focus" in arguments["properties"]:
            arguments["properties"]["focus"]["maxLength"] = int(focus_chars)
        calls.append({"type": "object", "properties": {"name": {"const": fn["name"]}, "arguments": arguments},
                      "required": ["name", "arguments"], "additionalProperties": False})
    return {"anyOf": calls}


def _close_objects(schema: Any) -> None:
    """``additionalProperties: false`` on every object schema: a guided call holds no key the
    tool does not know (the wrong-tool arguments of an unguided small model, e.g. ``observe``
    with ``answer``); times bounded as the parser bounds them."""
    from cvr_gym.core.actions import MAX_SECONDS

    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
            for key in ("start", "end"):
                if key in schema["properties"]:
                    schema["properties"][key].setdefault("maximum", MAX_SECONDS)
        for value in schema.values():
            _close_objects(value)
    elif isinstance(schema, list):
        for value in schema:
            _close_objects(value)


def tool_call_lark(space: Any, focus_chars: int = 0, max_calls: int = 1, tag_tokens: bool = False) -> str:
    """The llguidance Lark grammar of a reply: 1 to ``max_calls`` ``<tool_call>`` blocks.

    ``tag_tokens``: the tokenizer has ``<tool_call>``/``</tool_call>`` as added tokens (Qwen2.5
    and the tiny test models); the grammar then names those tokens instead of spelling the tags
    (llguidance matches added tokens only by token).
    """
    schema = {**tool_call_schema(space, focus_chars),
              # The separators of json.dumps, which the SFT transcripts use; no free whitespace.
              "x-guidance": {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}}
    more = ""
    for _ in range(max(1, int(max_calls)) - 1):
        more = f'("\\n" block{more})?'
    return "\n".join([
        f"start: block{more}",
        'block: <tool_call> "\\n" call "\\n" </tool_call>' if tag_tokens
        else 'block: "<tool_call>\\n" call "\\n</tool_call>"',
        f"call: %json {json.dumps(schema)}",
    ])


class ToolCallGrammar:
    """The tool-call grammar compiled for one tokenizer; :meth:`processor` gives a fresh
    transformers logits processor for each ``generate`` call.

    Arguments:
        tokenizer: a fast transformers tokenizer (the model's).
        space: the env's action space (tool bounds: videos, targets, frames).
        focus_chars: longest ``focus`` string (0: the tool's own limit).
        max_calls: most ``<tool_call>`` blocks in one reply.
        vocab_size: the model's logits width when larger than the tokenizer's vocabulary.
    """

    def __init__(self, tokenizer: Any, space: Any, focus_chars: int = 0, max_calls: int = 1,
                 vocab_size: int | None = None):
        try:
            import llguidance
            import llguidance.hf
        except ImportError:
            raise RuntimeError("guided decoding needs llguidance: pip install 'cvr-gym[llm]'") from None
        self._llguidance = llguidance
        self.tokenizer = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size)
        added = tokenizer.get_added_vocab()
        self.lark = tool_call_lark(space, focus_chars, max_calls,
                                   tag_tokens="<tool_call>" in added and "</tool_call>" in added)
        self.grammar = llguidance.LLMatcher.grammar_from_lark(self.lark)
        is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(self.grammar, self.tokenizer)
        if is_error:
            raise ValueError(f"the tool-call grammar does not compile: {messages}")

    def matcher(self) -> Any:
        return self._llguidance.LLMatcher(self.tokenizer, self.grammar)

    def processor(self) -> "GuidedLogitsProcessor":
        return GuidedLogitsProcessor(self.matcher(), self.tokenizer.vocab_size)


class GuidedLogitsProcessor:
    """Masks the logits of tokens that would leave the grammar (one sequence per ``generate``).

    Called by transformers' ``generate`` once per new token with the ids so far: every call
    after the first feeds the token sampled last to the matcher, then masks the next token.
    """

    def __init__(self, matcher: Any, vocab_size: int):
        import llguidance.numpy as lln

        self._lln = lln
        self.matcher = matcher
        self.mask = lln.allocate_token_bitmask(1, vocab_size)
        self.prompt_len: int | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if input_ids.shape[0] != 1:
            raise ValueError("guided decoding runs one sequence at a time")
        if self.prompt_len is None:
            self.prompt_len = input_ids.shape[1]
        elif not self.matcher.is_stopped():
            self.matcher.consume_token(int(input_ids[0, -1]))
        if self.matcher.is_error():  # cannot happen with masked sampling; leave the logits alone
            return scores
        self._lln.fill_next_token_bitmask(self.matcher, self.mask)
        masked = scores.detach().float().cpu().numpy().copy()
        self._lln.apply_token_bitmask_inplace(masked, self.mask)
        import torch

        return torch.from_numpy(masked).to(device=scores.device, dtype=scores.dtype)
