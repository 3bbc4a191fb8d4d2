"""Fill-in-the-middle prompt templates, chosen by model family.

A :class:`FimTemplate` turns ``(prefix_ids, suffix_ids, context_ids)`` into one prompt of token
ids. Special tokens are inserted by id; the caller tokenizes text *without* special-token
parsing, so source code that happens to contain ``<fim_prefix>`` cannot inject control tokens.

Layouts (``P``/``S``/``M`` are the family's prefix/suffix/middle tokens, ``C`` the context):

===========  =================================  ============================================
layout       prompt                             used by
===========  =================================  ============================================
``spm``      ``[bos] C P S suffix M prefix``    StarCoder/StarCoder2/SmolLM, CodeLlama
                                                (both trained PSM *and* this suffix-first
                                                form; ``auto`` picks it)
``sp``       ``[bos] C S suffix P prefix``      Codestral (``[SUFFIX]``/``[PREFIX]``, no
                                                middle token)
``psm``      ``[bos] C P prefix S suffix M``    Qwen2.5-Coder, CodeGemma, DeepSeek-Coder,
                                                unknown families with GGUF fim metadata
``prefix``   ``[bos] C prefix``                 no FIM tokens (both embedded models)
===========  =================================  ============================================

KV-cache reuse: while the user types, the prefix grows at its end and the suffix and context
stay put. The runtime re-evaluates everything after the first token that differs from the
cached prompt. With ``psm`` every keystroke therefore re-evaluates the whole suffix plus two
special tokens, and the previous completion (left in the cache after the ``M`` token) is lost.
With ``spm``/``sp``/``prefix`` the prefix is the *last* thing in the prompt, so a keystroke
costs only the re-tokenized tail of the prefix, and accepted completion tokens are already
cached. Hence ``auto`` prefers a suffix-first layout whenever the family was trained on one
and uses ``psm`` only for families trained on PSM alone. The cost is measurable with
:meth:`FimTemplate.tokens_after_prefix` (fixed re-evaluation per keystroke) and
:func:`keystroke_cost` (tokens to evaluate going from one prompt to the next); the runtime's
``Generation.reused_tokens`` reports the same thing live.

Measured on the two embedded models (greedy, first line of 24 held-out single-line spans
inside Python functions -- 12 from this repository, 12 from the stdlib; prefix <= 1500 chars,
suffix <= 500 chars; exact match / mean difflib similarity):

====================================  ==================  ==================
prompt                                SmolLM2-135M        Gemma-3-270M
====================================  ==================  ==================
prefix-only (+ token healing)         3/24  0.40          5/24  0.43
StarCoder markers as text, PSM        0/24  0.21          0/24  0.17
``<|fim_*|>`` markers as text, PSM    0/24  0.19          0/24  0.17
StarCoder markers as text, SPM        3/24  0.42          5/24  0.45
====================================  ==================  ==================

Neither vocabulary has FIM tokens, PSM with text markers is clearly worse, and the
suffix-first variant (in effect "suffix as extra context") is within noise of prefix-only while
costing suffix tokens, so both embedded models use the ``prefix`` layout
(``EmbeddedModel.use_fim = False``). SmolLM2's BPE merges ``"\n" + indentation`` into one
token, so a prompt ending in indentation needs token healing (back off the last prompt token
and constrain the first generated tokens to re-spell it via the logits hook); without it
SmolLM2 predicts a newline first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "FimMode",
    "FimTemplate",
    "Layout",
    "VocabInfo",
    "common_prefix_len",
    "detect_fim_template",
    "keystroke_cost",
    "prefix_only_template",
]

Layout = Literal["psm", "spm", "sp", "prefix"]
FimMode = Literal["auto", "psm", "spm", "prefix"]


def common_prefix_len(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def keystroke_cost(before: Sequence[int], after: Sequence[int]) -> int:
    """Prompt tokens that must be evaluated for ``after`` when ``before`` is in the KV cache."""
    return len(after) - common_prefix_len(before, after)


@dataclass(frozen=True, slots=True)
class VocabInfo:
    """What detection needs to know about a vocabulary.

    ``lookup`` maps the exact text of a special (control / user-defined) token to its id, or
    returns ``None``. ``llama_fim`` is llama.cpp's own (prefix, suffix, middle) guess from
    ``llama_vocab_fim_pre/suf/mid`` (``-1``/``None`` when absent).
    """

    lookup: Callable[[str], int | None]
    bos_id: int | None = None
    eos_id: int | None = None
    eot_id: int | None = None
    add_bos: bool = False
    llama_fim: tuple[int | None, int | None, int | None] = (None, None, None)

    @classmethod
    def from_tokens(cls, tokens: Mapping[str, int], **kwargs: object) -> VocabInfo:
        """Convenience for tests and tools: build from a ``{text: id}`` mapping."""
        table = dict(tokens)
        return cls(lookup=table.get, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class FimTemplate:
    """A prompt layout plus the special-token ids it needs."""

    name: str
    family: str
    layout: Layout
    prefix_id: int | None = None
    suffix_id: int | None = None
    middle_id: int | None = None
    leading_ids: tuple[int, ...] = ()
    stop_ids: frozenset[int] = field(default_factory=frozenset)
    file_sep_id: int | None = None
    trained_layouts: tuple[Layout, ...] = ()

    @property
    def is_fim(self) -> bool:
        return self.layout != "prefix"

    @property
    def ids(self) -> dict[str, int]:
        """The special-token ids this template uses, by role."""
        roles = {
            "prefix": self.prefix_id,
            "suffix": self.suffix_id,
            "middle": self.middle_id,
            "file_sep": self.file_sep_id,
        }
        return {k: v for k, v in roles.items() if v is not None}

    def build(
        self,
        prefix_ids: Sequence[int],
        suffix_ids: Sequence[int] = (),
        context_ids: Sequence[int] = (),
    ) -> list[int]:
        """Assemble a prompt. The stable part (BOS, context) always comes first.

        ``prefix_ids`` is the code before the cursor, ``suffix_ids`` the code after it
        (ignored by the ``prefix`` layout), ``context_ids`` retrieved context that the caller
        has already formatted (e.g. with :attr:`file_sep_id` separators).
        """
        out = [*self.leading_ids, *context_ids]
        layout = self.layout
        if layout == "prefix":
            out += prefix_ids
        elif layout == "psm":
            out.append(self._need(self.prefix_id))
            out += prefix_ids
            out.append(self._need(self.suffix_id))
            out += suffix_ids
            out.append(self._need(self.middle_id))
        elif layout == "spm":
            out.append(self._need(self.prefix_id))
            out.append(self._need(self.suffix_id))
            out += suffix_ids
            out.append(self._need(self.middle_id))
            out += prefix_ids
        else:  # "sp"
            out.append(self._need(self.suffix_id))
            out += suffix_ids
            out.append(self._need(self.prefix_id))
            out += prefix_ids
        return out

    def tokens_after_prefix(self, suffix_len: int) -> int:
        """Prompt tokens that follow the prefix, i.e. are re-evaluated on every keystroke."""
        return suffix_len + 2 if self.layout == "psm" else 0

    @staticmethod
    def _need(token: int | None) -> int:
        if token is None:  # pragma: no cover - templates are built complete
            raise ValueError("template is missing a special token for its layout")
        return token


@dataclass(frozen=True, slots=True)
class _Family:
    name: str
    prefix: tuple[str, ...]
    suffix: tuple[str, ...]
    middle: tuple[str, ...]
    layouts: tuple[Layout, ...]  # trained layouts, preferred (most cache-friendly) first
    stops: tuple[str, ...] = ()
    file_sep: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()  # general.architecture / general.name substrings


_PIPE = ("<|fim_prefix|>",), ("<|fim_suffix|>",), ("<|fim_middle|>",)

# Order matters: families sharing tokens (CodeGemma vs Qwen) are told apart by ``hints``;
# the first family whose hints match wins, otherwise the first whose tokens exist.
_FAMILIES: tuple[_Family, ...] = (
    _Family(
        "codestral", ("[PREFIX]",), ("[SUFFIX]",), (), ("sp",),
        stops=("</s>",), hints=("codestral", "mistral"),
    ),
    _Family(
        "deepseek-coder", ("<｜fim▁begin｜>",), ("<｜fim▁hole｜>",), ("<｜fim▁end｜>",), ("psm",),
        stops=("<｜end▁of▁sentence｜>", "<|EOT|>"), hints=("deepseek",),
    ),
    _Family(
        "codellama", ("▁<PRE>", "<PRE>"), ("▁<SUF>", "<SUF>"), ("▁<MID>", "<MID>"),
        ("spm", "psm"), stops=("▁<EOT>", "<EOT>"), hints=("codellama", "code llama"),
    ),
    _Family(
        "codegemma", *_PIPE, ("psm",),
        stops=("<|file_separator|>", "<end_of_turn>"), file_sep=("<|file_separator|>",),
        hints=("gemma",),
    ),
    _Family(
        "qwen-coder", *_PIPE, ("psm",),
        stops=("<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|endoftext|>", "<|im_end|>"),
        file_sep=("<|file_sep|>",), hints=("qwen",),
    ),
    _Family(
        "starcoder", ("<fim_prefix>",), ("<fim_suffix>",), ("<fim_middle>",), ("spm", "psm"),
        stops=("<fim_pad>", "<file_sep>", "<|endoftext|>"), file_sep=("<file_sep>",),
        hints=("starcoder", "smollm", "bigcode"),
    ),
)  # fmt: skip

_META_KEYS: dict[str, tuple[str, ...]] = {
    "prefix": ("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"),
    "suffix": ("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"),
    "middle": ("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"),
    "pad": ("tokenizer.ggml.fim_pad_token_id",),
    "sep": ("tokenizer.ggml.fim_sep_token_id",),
    "eot": ("tokenizer.ggml.eot_token_id",),
}


def _meta_id(metadata: Mapping[str, object], role: str) -> int | None:
    for key in _META_KEYS[role]:
        raw = metadata.get(key)
        if raw is None:
            continue
        try:
            value = int(str(raw))
        except ValueError:
            continue
        if value >= 0:
            return value
    return None


def _first(vocab: VocabInfo, texts: Sequence[str]) -> int | None:
    for text in texts:
        token = vocab.lookup(text)
        if token is not None and token >= 0:
            return token
    return None


def _valid(token: int | None) -> int | None:
    return token if token is not None and token >= 0 else None


def _leading(vocab: VocabInfo) -> tuple[int, ...]:
    bos = _valid(vocab.bos_id)
    return (bos,) if vocab.add_bos and bos is not None else ()


def _base_stops(vocab: VocabInfo, metadata: Mapping[str, object]) -> set[int]:
    stops = {t for t in (vocab.eos_id, vocab.eot_id) if t is not None and t >= 0}
    for role in ("eot", "pad", "sep"):
        token = _meta_id(metadata, role)
        if token is not None:
            stops.add(token)
    return stops


def prefix_only_template(
    vocab: VocabInfo, metadata: Mapping[str, object] | None = None, *, family: str = "none"
) -> FimTemplate:
    """Plain left-to-right completion: ``[bos] context prefix``."""
    return FimTemplate(
        name=f"{family}/prefix" if family != "none" else "prefix-only",
        family=family,
        layout="prefix",
        leading_ids=_leading(vocab),
        stop_ids=frozenset(_base_stops(vocab, metadata or {})),
    )


def _family_hint(metadata: Mapping[str, object]) -> str:
    keys = ("general.architecture", "general.name", "general.basename", "general.finetune")
    return " ".join(str(metadata.get(k, "")) for k in keys).lower()


def detect_fim_template(
    metadata: Mapping[str, object], vocab: VocabInfo, *, mode: FimMode = "auto"
) -> FimTemplate:
    """Pick the FIM template for a model from its GGUF metadata and special tokens.

    ``mode``: ``auto`` uses FIM when the vocabulary supports it, in the family's most
    cache-friendly trained layout; ``psm``/``spm`` force a layout when the family was trained
    on it (``spm`` falls back to the family's own suffix-first/PSM layout otherwise);
    ``prefix`` disables FIM. Without FIM tokens the result is always prefix-only.
    """
    hint = _family_hint(metadata)
    meta_ids = {r: _meta_id(metadata, r) for r in ("prefix", "suffix", "middle")}

    candidates: list[tuple[_Family, int | None, int | None, int | None]] = []
    for fam in _FAMILIES:
        ids = (_first(vocab, fam.prefix), _first(vocab, fam.suffix), _first(vocab, fam.middle))
        if ids[0] is not None and ids[1] is not None and (ids[2] is not None or not fam.middle):
            candidates.append((fam, *ids))
    chosen = next((c for c in candidates if any(h in hint for h in c[0].hints)), None)
    if chosen is None and candidates:
        chosen = candidates[0]

    if chosen is not None:
        fam, pre, suf, mid = chosen
        # Explicit GGUF metadata wins over text matching when it names all the roles it needs.
        if meta_ids["prefix"] is not None and meta_ids["suffix"] is not None:
            pre, suf = meta_ids["prefix"], meta_ids["suffix"]
            if fam.middle and meta_ids["middle"] is not None:
                mid = meta_ids["middle"]
        family, layouts = fam.name, fam.layouts
        stop_texts, file_sep = fam.stops, _first(vocab, fam.file_sep)
    else:
        llama_pre, llama_suf, llama_mid = (_valid(t) for t in vocab.llama_fim)
        pre = meta_ids["prefix"] if meta_ids["prefix"] is not None else llama_pre
        suf = meta_ids["suffix"] if meta_ids["suffix"] is not None else llama_suf
        mid = meta_ids["middle"] if meta_ids["middle"] is not None else llama_mid
        if pre is None or suf is None or mid is None:
            return prefix_only_template(vocab, metadata)
        family, layouts, stop_texts, file_sep = "gguf-metadata", ("psm",), (), None

    if mode == "prefix":
        return prefix_only_template(vocab, metadata, family=family)
    layout: Layout = layouts[0]
    if mode in layouts:
        layout = mode  # type: ignore[assignment]

    stops = _base_stops(vocab, metadata)
    stops.update(t for t in (_first(vocab, (s,)) for s in stop_texts) if t is not None)
    stops.update(t for t in (pre, suf, mid) if t is not None)
    return FimTemplate(
        name=f"{family}/{layout}",
        family=family,
        layout=layout,
        prefix_id=pre,
        suffix_id=suf,
        middle_id=mid,
        leading_ids=_leading(vocab),
        stop_ids=frozenset(stops),
        file_sep_id=file_sep,
        trained_layouts=layouts,
    )
