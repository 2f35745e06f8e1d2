"""Tiny random transformers models built from configs, for tests. Nothing is downloaded.

Each helper writes a checkpoint directory (``save_pretrained``) under the given path and returns
it, so code under test loads it exactly as it would load a real model id or local path. Weights
are random: generated text is gibberish, but shapes, processors, chat templates and pipelines
are the real ones. Every helper takes well under a second on CPU.

- :func:`tiny_idefics3` -- SmolVLM architecture (image-text-to-text), PIL image processor.
- :func:`tiny_whisper` -- Whisper (automatic-speech-recognition), ``WhisperTokenizer`` with no merges.
- :func:`tiny_qwen2` -- a Qwen2 causal LM with a tool-capable chat template (for training tests).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _byte_level_vocab() -> dict[str, int]:
    from tokenizers.pre_tokenizers import ByteLevel

    return {ch: i for i, ch in enumerate(sorted(ByteLevel.alphabet()))}


def _byte_bpe_tokenizer(special_tokens: list[str], chat_template: str, *,
                        extra_tokens: list[str] = (), **named_tokens: str):
    """A byte-level BPE with no merges (every byte is a token) plus ``special_tokens`` and
    ``extra_tokens`` (added whole, not special)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(vocab=_byte_level_vocab(), merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **named_tokens)
    fast.add_special_tokens({"additional_special_tokens": special_tokens})
    if extra_tokens:
        fast.add_tokens(list(extra_tokens))
    fast.chat_template = chat_template
    return fast


# SmolVLM's chat template, shortened.
_IDEFICS3_CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def tiny_idefics3(path: str | os.PathLike) -> Path:
    """Write a tiny random Idefics3 (SmolVLM) checkpoint with its processor to ``path``.

    Vision: 32 px images, 8 px patches, 1 layer; text: a 1-layer Llama with 32 hidden units;
    4 image tokens per image (no image splitting).
    """
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3Processor,
    )
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    image_size, patch_size, scale_factor = 32, 8, 2
    image_seq_len = (image_size // patch_size) ** 2 // scale_factor**2
    specials = ["<|im_start|>", "<end_of_utterance>", "<image>", "<fake_token_around_image>",
                "<global-img>", "<|pad|>"]
    specials += [f"<row_{i + 1}_col_{j + 1}>" for i in range(6) for j in range(6)]
    tokenizer = _byte_bpe_tokenizer(
        specials, _IDEFICS3_CHAT_TEMPLATE,
        bos_token="<|im_start|>", eos_token="<end_of_utterance>", pad_token="<|pad|>",
    )
    image_processor = Idefics3ImageProcessorPil(
        do_resize=True, size={"longest_edge": image_size}, do_image_splitting=False,
        max_image_size={"longest_edge": image_size},
    )
    processor = Idefics3Processor(image_processor=image_processor, tokenizer=tokenizer,
                                  image_seq_len=image_seq_len, chat_template=_IDEFICS3_CHAT_TEMPLATE)
    vocab_size = len(tokenizer)
    config = Idefics3Config(
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=scale_factor,
        vision_config={
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "image_size": image_size, "patch_size": patch_size,
        },
        text_config={
            "model_type": "llama", "vocab_size": vocab_size, "hidden_size": 32,
            "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
            "num_key_value_heads": 2, "max_position_embeddings": 512,
            "pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
    )
    import torch

    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def tiny_whisper(path: str | os.PathLike) -> Path:
    """Write a tiny random Whisper checkpoint (d_model 64, 2 encoder + 2 decoder layers) to ``path``.

    The tokenizer is a ``WhisperTokenizer`` over the 256 byte-level symbols with no merges, plus
    Whisper's special tokens (the ASR pipeline needs its ``_decode_asr``).
    """
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    vocab = _byte_level_vocab()
    # As in real Whisper vocabularies, <|notimestamps|> comes last and the timestamp tokens
    # follow it (generation computes timestamp_begin = no_timestamps_token_id + 1).
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>",
                "<|transcribe|>", "<|startofprev|>", "<|nocaptions|>",
                "<|notimestamps|>"]
    for tok in specials:
        vocab[tok] = len(vocab)
    timestamp_begin = len(vocab)
    n_timestamps = 1501
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[], unk_token="<|endoftext|>",
                                 bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                 pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    # Timestamp tokens <|0.00|> ... <|30.00|> after the specials, as in real Whisper vocabularies.
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(n_timestamps)])
    assert tokenizer.convert_tokens_to_ids("<|0.00|>") == timestamp_begin
    feature_extractor = WhisperFeatureExtractor(feature_size=80)
    processor = WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    ids = tokenizer.convert_tokens_to_ids
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=64,
        encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=128, decoder_ffn_dim=128, max_source_positions=1500, max_target_positions=64,
        pad_token_id=ids("<|endoftext|>"), bos_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|endoftext|>"), decoder_start_token_id=ids("<|startoftranscript|>"),
    )
    import torch

    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids("<|startoftranscript|>"), pad_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|endoftext|>"), bos_token_id=ids("<|endoftext|>"),
        no_timestamps_token_id=ids("<|notimestamps|>"),
        # Greedy and short: the ASR pipeline otherwise defaults to 5 beams and 256 new tokens.
        num_beams=1, do_sample=False, max_new_tokens=12,
        begin_suppress_tokens=[], suppress_tokens=[],
        lang_to_id={"<|en|>": ids("<|en|>")},
        task_to_id={"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")},
        is_multilingual=True,
    )
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


# Qwen2.5's chat template (renders tools, tool calls and tool responses). TRL recognises chat
# templates by exact text to parse tool calls, so its own copy is used when TRL is installed.
_QWEN2_5_CHAT_TEMPLATE = '{%- if tools %}\n    {{- \'<|im_start|>system\\n\' }}\n    {%- if messages[0][\'role\'] == \'system\' %}\n        {{- messages[0][\'content\'] }}\n    {%- else %}\n        {{- \'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.\' }}\n    {%- endif %}\n    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}\n    {%- for tool in tools %}\n        {{- "\\n" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}\n{%- else %}\n    {%- if messages[0][\'role\'] == \'system\' %}\n        {{- \'<|im_start|>system\\n\' + messages[0][\'content\'] + \'<|im_end|>\\n\' }}\n    {%- else %}\n        {{- \'<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n\' }}\n    {%- endif %}\n{%- endif %}\n{%- for message in messages %}\n    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}\n        {{- \'<|im_start|>\' + message.role + \'\\n\' + message.content + \'<|im_end|>\' + \'\\n\' }}\n    {%- elif message.role == "assistant" %}\n        {{- \'<|im_start|>\' + message.role }}\n        {%- if message.content %}\n            {{- \'\\n\' + message.content }}\n        {%- endif %}\n        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}\n                {%- set tool_call = tool_call.function %}\n            {%- endif %}\n            {{- \'\\n<tool_call>\\n{"name": "\' }}\n            {{- tool_call.name }}\n            {{- \'", "arguments": \' }}\n            {{- tool_call.arguments | tojson }}\n            {{- \'}\\n</tool_call>\' }}\n        {%- endfor %}\n        {{- \'<|im_end|>\\n\' }}\n    {%- elif message.role == "tool" %}\n        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}\n            {{- \'<|im_start|>user\' }}\n        {%- endif %}\n        {{- \'\\n<tool_response>\\n\' }}\n        {{- message.content }}\n        {{- \'\\n</tool_response>\' }}\n        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}\n            {{- \'<|im_end|>\\n\' }}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- \'<|im_start|>assistant\\n\' }}\n{%- endif %}\n'


def _qwen2_5_chat_template() -> str:
    try:
        from trl.chat_template_utils import qwen2_5_chat_template
    except Exception:  # TRL missing or reorganised: the copy above renders the same prompts.
        return _QWEN2_5_CHAT_TEMPLATE
    return qwen2_5_chat_template


def tiny_qwen2(path: str | os.PathLike, *, hidden_size: int = 32, num_layers: int = 2) -> Path:
    """Write a tiny random Qwen2 causal LM to ``path`` (``AutoModelForCausalLM``/``AutoTokenizer``).

    The tokenizer is byte-level with ChatML special tokens and Qwen2.5's tool-capable chat
    template, so TRL's tool-calling (``add_response_schema``) recognises it.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    # As in Qwen2.5, the tool tags are added tokens that are not special (decoding with
    # skip_special_tokens keeps them, so tool calls survive).
    tokenizer = _byte_bpe_tokenizer(
        ["<|im_start|>", "<|im_end|>", "<|endoftext|>"], _qwen2_5_chat_template(),
        extra_tokens=["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"],
        eos_token="<|im_end|>", pad_token="<|endoftext|>",
    )
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers, num_attention_heads=2, num_key_value_heads=1,
        max_position_embeddings=2048, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
