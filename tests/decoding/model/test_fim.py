"""FIM template detection (synthetic vocabularies + both embedded models) and prompt layouts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from tether.decoding.model.files import DEFAULT_MODEL, EMBEDDED_MODELS, resolve_model
from tether.decoding.model.fim import (
    FimMode,
    FimTemplate,
    VocabInfo,
    common_prefix_len,
    detect_fim_template,
    keystroke_cost,
    prefix_only_template,
)
from tether.decoding.model.runtime import ModelRuntime

BOS, EOS = 1, 2


def vocab(tokens: Mapping[str, int], *, add_bos: bool = True, **kw: object) -> VocabInfo:
    return VocabInfo.from_tokens(tokens, bos_id=BOS, eos_id=EOS, add_bos=add_bos, **kw)


def meta(arch: str, name: str = "", **extra: object) -> dict[str, object]:
    return {"general.architecture": arch, "general.name": name, **extra}


QWEN = {"<|endoftext|>": 10, "<|fim_prefix|>": 11, "<|fim_middle|>": 12, "<|fim_suffix|>": 13,
        "<|fim_pad|>": 14, "<|repo_name|>": 15, "<|file_sep|>": 16, "<|im_end|>": 17}  # fmt: skip
STARCODER = {"<|endoftext|>": 0, "<fim_prefix>": 21, "<fim_middle>": 22, "<fim_suffix>": 23,
             "<fim_pad>": 24, "<file_sep>": 25}  # fmt: skip
DEEPSEEK = {"<｜fim▁hole｜>": 31, "<｜fim▁begin｜>": 32, "<｜fim▁end｜>": 33, "<|EOT|>": 34}
CODELLAMA = {"▁<PRE>": 32007, "▁<SUF>": 32008, "▁<MID>": 32009, "▁<EOT>": 32010}
CODESTRAL = {"[INST]": 3, "[PREFIX]": 41, "[SUFFIX]": 42, "[MIDDLE]": 43}
CODEGEMMA = {"<|fim_prefix|>": 67, "<|fim_middle|>": 68, "<|fim_suffix|>": 69,
             "<|file_separator|>": 70, "<end_of_turn>": 107}  # fmt: skip

P, S, C = [100, 101, 102], [200, 201], [300]


# ------------------------------------------------------------------------------ detection


def test_qwen_coder_psm() -> None:
    t = detect_fim_template(meta("qwen2", "Qwen2.5 Coder 1.5B"), vocab(QWEN, add_bos=False))
    assert (t.family, t.layout, t.name) == ("qwen-coder", "psm", "qwen-coder/psm")
    assert t.ids == {"prefix": 11, "suffix": 13, "middle": 12, "file_sep": 16}
    assert {10, 14, 16, 15, 17, EOS} <= t.stop_ids
    assert t.build(P, S, C) == [300, 11, *P, 13, *S, 12]


def test_codegemma_is_told_apart_from_qwen_by_architecture() -> None:
    t = detect_fim_template(meta("gemma", "codegemma-2b"), vocab(CODEGEMMA))
    assert t.family == "codegemma" and t.layout == "psm"
    assert t.file_sep_id == 70 and {70, 107} <= t.stop_ids
    assert t.build(P, S) == [BOS, 67, *P, 69, *S, 68]


def test_starcoder_prefers_suffix_first() -> None:
    t = detect_fim_template(meta("starcoder2", "StarCoder2 3B"), vocab(STARCODER, add_bos=False))
    assert (t.family, t.layout) == ("starcoder", "spm")
    assert t.trained_layouts == ("spm", "psm")
    assert t.build(P, S, C) == [300, 21, 23, *S, 22, *P]
    assert {0, 24, 25} <= t.stop_ids and t.file_sep_id == 25
    psm = detect_fim_template(meta("starcoder2"), vocab(STARCODER, add_bos=False), mode="psm")
    assert psm.build(P, S, C) == [300, 21, *P, 23, *S, 22]


def test_smollm_style_fim_tokens_use_starcoder_family() -> None:
    t = detect_fim_template(meta("llama", "SmolLM 360M"), vocab(STARCODER, add_bos=False))
    assert t.family == "starcoder"


def test_deepseek_coder_psm_only() -> None:
    t = detect_fim_template(meta("llama", "deepseek-coder-1.3b-base"), vocab(DEEPSEEK))
    assert (t.family, t.layout) == ("deepseek-coder", "psm")
    assert t.build(P, S) == [BOS, 32, *P, 31, *S, 33]
    assert 34 in t.stop_ids
    # PSM-only families ignore a request for suffix-first.
    spm = detect_fim_template(meta("llama", "deepseek-coder"), vocab(DEEPSEEK), mode="spm")
    assert spm.layout == "psm"


def test_codellama_spm_and_psm() -> None:
    t = detect_fim_template(meta("llama", "CodeLlama 7B"), vocab(CODELLAMA))
    assert (t.family, t.layout) == ("codellama", "spm")
    assert t.build(P, S) == [BOS, 32007, 32008, *S, 32009, *P]
    assert 32010 in t.stop_ids
    psm = detect_fim_template(meta("llama", "CodeLlama 7B"), vocab(CODELLAMA), mode="psm")
    assert psm.build(P, S) == [BOS, 32007, *P, 32008, *S, 32009]
    # Vocabularies without the SentencePiece marker spell them "<PRE>" etc.
    plain = {k.removeprefix("▁"): v for k, v in CODELLAMA.items()}
    assert detect_fim_template(meta("llama"), vocab(plain)).family == "codellama"


def test_codestral_suffix_then_prefix() -> None:
    t = detect_fim_template(meta("llama", "Codestral 22B v0.1"), vocab(CODESTRAL))
    assert (t.family, t.layout) == ("codestral", "sp")
    assert t.middle_id is None
    assert t.build(P, S, C) == [BOS, 300, 42, *S, 41, *P]


def test_gguf_fim_metadata_for_unknown_family() -> None:
    md = meta(
        "newarch",
        "Some Coder",
        **{
            "tokenizer.ggml.fim_pre_token_id": "51",
            "tokenizer.ggml.fim_suf_token_id": "52",
            "tokenizer.ggml.fim_mid_token_id": "53",
            "tokenizer.ggml.fim_pad_token_id": "54",
        },
    )
    t = detect_fim_template(md, vocab({}))
    assert (t.family, t.layout) == ("gguf-metadata", "psm")
    assert t.build(P, S) == [BOS, 51, *P, 52, *S, 53]
    assert 54 in t.stop_ids


def test_metadata_ids_override_text_matches() -> None:
    md = meta("qwen2", "Qwen", **{"tokenizer.ggml.fim_pre_token_id": 91,
                                  "tokenizer.ggml.fim_suf_token_id": 93,
                                  "tokenizer.ggml.fim_mid_token_id": 92})  # fmt: skip
    t = detect_fim_template(md, vocab(QWEN))
    assert (t.prefix_id, t.suffix_id, t.middle_id) == (91, 93, 92)


def test_llama_cpp_fim_ids_are_a_fallback() -> None:
    t = detect_fim_template(meta("x"), vocab({}, llama_fim=(5, 6, 7)))
    assert t.layout == "psm" and t.ids == {"prefix": 5, "suffix": 6, "middle": 7}
    partial = detect_fim_template(meta("x"), vocab({}, llama_fim=(5, -1, None)))
    assert partial.layout == "prefix"


def test_no_fim_tokens_means_prefix_only() -> None:
    t = detect_fim_template(meta("llama", "Plain LM"), vocab({"<s>": 1, "</s>": 2}))
    assert t == prefix_only_template(vocab({}), {})
    assert not t.is_fim and t.name == "prefix-only"
    assert t.build(P, S, C) == [BOS, 300, *P]  # the suffix is dropped
    assert EOS in t.stop_ids


def test_prefix_mode_disables_fim() -> None:
    t = detect_fim_template(meta("qwen2", "Qwen"), vocab(QWEN), mode="prefix")
    assert t.layout == "prefix" and t.family == "qwen-coder"
    assert t.build(P, S) == [BOS, *P]


def test_incomplete_token_set_is_not_fim() -> None:
    only_prefix = {"<fim_prefix>": 21, "<fim_suffix>": 23}  # no <fim_middle>
    assert detect_fim_template(meta("starcoder"), vocab(only_prefix)).layout == "prefix"


# ------------------------------------------------------------------------------ KV reuse


@pytest.mark.parametrize(
    ("tokens", "mode", "layout", "expected_cost"),
    [(STARCODER, "psm", "psm", 9), (STARCODER, "auto", "spm", 1), (CODESTRAL, "auto", "sp", 1),
     ({}, "auto", "prefix", 1)],
)  # fmt: skip
def test_keystroke_cost_by_layout(
    tokens: dict[str, int], mode: FimMode, layout: str, expected_cost: int
) -> None:
    """Typing one more prefix token with a 6-token suffix: suffix-first layouts re-evaluate
    just that token; PSM re-evaluates it, the suffix and the three special tokens around it."""
    t = detect_fim_template(meta("starcoder"), vocab(tokens), mode=mode)
    assert t.layout == layout
    suffix = S * 3
    before = t.build(P, suffix, C)
    after = t.build([*P, 103], suffix, C)
    assert keystroke_cost(before, after) == expected_cost
    assert expected_cost == 1 + t.tokens_after_prefix(len(suffix))
    assert common_prefix_len(before, after) == len(after) - expected_cost


def test_template_is_hashable_and_frozen() -> None:
    t = detect_fim_template(meta("qwen2"), vocab(QWEN))
    assert isinstance(hash(t), int)
    with pytest.raises(AttributeError):
        t.layout = "spm"  # type: ignore[misc]
    assert isinstance(t, FimTemplate)


# ------------------------------------------------------------------------------ embedded models


@pytest.fixture(scope="module")
def smollm2_runtime() -> Iterator[ModelRuntime]:
    rt = ModelRuntime(resolve_model("smollm2-135m"), n_ctx=512)
    yield rt
    rt.close()


def test_gemma_is_prefix_only_with_bos(model_runtime: ModelRuntime) -> None:
    if model_runtime.architecture != "gemma3":
        pytest.skip("default model is not Gemma 3")
    assert model_runtime.fim_template.leading_ids == (model_runtime.bos_id,)
    assert EMBEDDED_MODELS["gemma3-270m"].use_fim is False


def test_default_embedded_model_is_prefix_only(model_runtime: ModelRuntime) -> None:
    t = model_runtime.fim_template
    assert t.layout == "prefix" and not t.is_fim
    bos = (model_runtime.bos_id,) if model_runtime.vocab.add_bos else ()
    assert t.leading_ids == bos  # Gemma needs <bos>; SmolLM2 adds none
    assert EMBEDDED_MODELS[DEFAULT_MODEL].use_fim is False
    # FIM-looking text in the vocabulary is not a special token.
    assert model_runtime.vocab.lookup_special("<|fim_prefix|>") is None


def test_smollm2_is_prefix_only(smollm2_runtime: ModelRuntime) -> None:
    t = smollm2_runtime.fim_template
    assert t.layout == "prefix" and t.leading_ids == ()  # no BOS for SmolLM2
    assert smollm2_runtime.vocab.lookup_special("<file_sep>") is not None
    assert smollm2_runtime.vocab.lookup_special("<fim_prefix>") is None
    assert EMBEDDED_MODELS["smollm2-135m"].use_fim is False


def test_prompt_only_fallback_builds_prefix_prompt(smollm2_runtime: ModelRuntime) -> None:
    rt = smollm2_runtime
    prefix, suffix = "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"
    ids = rt.build_prompt(prefix, suffix)
    assert ids == rt.tokenize(prefix)  # suffix ignored, nothing prepended
    with_context = rt.build_prompt(prefix, suffix, context="# math helpers\n")
    assert with_context == rt.tokenize("# math helpers\n") + rt.tokenize(prefix)
    g = rt.generate(ids, max_tokens=6)
    assert g.token_ids and g.stop_reason in ("eos", "max_tokens")
