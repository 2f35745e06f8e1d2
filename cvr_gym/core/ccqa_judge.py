"""CrossVid's CCQA judge through any OpenAI-compatible chat endpoint (vLLM, SGLang, OpenAI).

The prompt and the reading of the reply are those of CrossVid's ``eval/score_CCQA.py``: the
judge marks each scoring point ``coverage`` and ``correctness`` inside ``<score></score>``
tags; the score is (covered + correct) / (2 x points). Pass an instance as
``ScoringConfig(mode="crossvid", judge=OpenAIJudge(base_url=...))``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

from cvr_gym.core.http import HTTPClient

# eval/score_CCQA.py, SCORE (verbatim wording of the two-part rubric).
SCORE_PROMPT = """
You are asked to score the output of a model, given the following information:
- Question: {QUESTION}
- Standard Answer: {ANSWER}
- Scoring Points: {POINTS}
- Model's Output: {OUTPUT}

Please perform the following two-part scoring:
Part 1: Coverage of Scoring Points
- For each scoring point, determine whether it is covered by the Model's Output.
- Mark as covered (true) **only if** the scoring point is addressed **explicitly, independently, and clearly**.
- If the mention is vague, partial, or ambiguous, consider it **not covered**.

Part 2: Accuracy of Details
- For each covered scoring point, compare the details in the Model's Output to the Standard Answer.
- Mark as correct (true) **only if** the details are **fully accurate and consistent** with the Standard Answer, without any error, omission, or ambiguity.
- If the answer is partially correct, too broad/narrow, or not strictly consistent, mark it as **not correct** (false).
- For scoring points not covered, mark as incorrect.

Format your answer in a json format as follows:
{{
    "coverage": [true, false, true, ...],
    "correctness": [true, false, false, ...]
}}
The length of 'coverage' and 'correctness' lists should match the number of scoring points.
Wrap the json output within <score></score> tags.

Your answer:
"""

_SCORE_TAG = re.compile(r"<score>\s*(.*?)\s*</score>", re.DOTALL)  # eval/utils/extract.py


def parse_verdict(reply: str, n_points: int) -> tuple[list[bool], list[bool]] | None:
    """``(coverage, correctness)`` from a judge reply, or ``None`` when it cannot be read (the
    official script then drops the answer from the pool)."""
    m = _SCORE_TAG.search(reply or "")
    if not m:
        return None
    try:
        data = json.loads(m.group(1))
        coverage, correctness = list(data["coverage"]), list(data["correctness"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
    if len(coverage) != len(correctness) or len(coverage) != n_points:
        return None
    return [bool(x) for x in coverage], [bool(x) for x in correctness]


@dataclass
class OpenAIJudge:
    """Posts CrossVid's judge prompt to ``{base_url}/chat/completions`` (temperature 0, top_p
    0.95, as ``score_CCQA.py``); ``model`` defaults to the server's first model. Standard library
    only (:class:`cvr_gym.core.http.HTTPClient`: ``timeout`` seconds for each whole attempt, no
redirects, ``retries`` on transient failures). A reply that cannot be read scores the answer 0
with an error in the result."""

    base_url: str
    model: str | None = None
    api_key: str = "EMPTY"
    timeout: float = 120.0
    max_tokens: int = 8192
    retries: int = 2
    backoff: float = 1.0

    def __call__(self, question: str, answer: str, points: Sequence[str], output: str) -> Any:
        prompt = SCORE_PROMPT.format(QUESTION=question, ANSWER=answer, POINTS=list(points), OUTPUT=output)
        payload = {"model": self.model or self._first_model(), "temperature": 0.0, "top_p": 0.95,
                   "max_tokens": self.max_tokens, "stream": False,
                   "messages": [{"role": "system", "content": "You are a helpful assistant."},
                                {"role": "user", "content": prompt}]}
        reply = self._request("/chat/completions", payload)
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return None
        return parse_verdict(content, len(points))

    def _first_model(self) -> str:
        return self._request("/models")["data"][0]["id"]

    def _request(self, path: str, payload: dict | None = None) -> Any:
        client = HTTPClient("judge", self.base_url, None, self.timeout, self.retries, self.backoff,
                            max_reply_bytes=MAX_REPLY_BYTES, error=JudgeError, api_key=self.api_key)
        return client.get_json(path) if payload is None else client.post_json(path, payload)


MAX_REPLY_BYTES = 32 * 2**20


class JudgeError(RuntimeError):
    """The judge server could not be used (an error status, a timeout, a redirect, an oversized or
    malformed reply)."""
