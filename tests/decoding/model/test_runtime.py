"""ModelRuntime against real llama.cpp with the default embedded model. No timing assertions."""

from __future__ import annotations

import ctypes
import os
import re
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from llama_cpp import llama_cpp as llama

from tether.decoding.model.files import (
    DEFAULT_MODEL,
    EMBEDDED_MODELS,
    ModelLoadError,
    ModelNotFoundError,
    embedded_model_for,
    resolve_model,
    validate_gguf,
)
from tether.decoding.model.kv_states import SavedState, StateCache
from tether.decoding.model.runtime import ContextOverflowError, Generation, LogitsHook, ModelRuntime

CODE_A = (
    "import os\n\n\n"
    "def list_python_files(root):\n"
    '    """Return the paths of all .py files under root."""\n'
    "    result = []\n"
    "    for dirpath, _dirnames, filenames in os.walk(root):\n"
)
CODE_B = (
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"
)


def _prompt(rt: ModelRuntime, code: str) -> list[int]:
    return rt.build_prompt(code)


# ------------------------------------------------------------------------------ generation


def test_generates_text(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = _prompt(rt, CODE_A)
    g = rt.generate(prompt, max_tokens=12)
    assert isinstance(g, Generation)
    assert g.token_ids and g.text.strip()
    assert g.stop_reason in ("eos", "max_tokens")
    assert g.prompt_tokens == len(prompt)
    assert g.reused_tokens == 0 and g.evaluated_tokens == len(prompt)
    assert g.prompt_eval_ms >= 0 and g.decode_ms >= 0 and g.tokens_per_s >= 0
    assert rt.detokenize(g.token_ids) == g.text
    # The generated tokens (all but the last, which was never evaluated) stay cached.
    assert rt.cached_tokens == prompt + g.token_ids[:-1]


def test_greedy_is_deterministic_with_and_without_cache(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = _prompt(rt, CODE_A)
    first = rt.generate(prompt, max_tokens=8)
    cached = rt.generate(prompt, max_tokens=8)
    rt.reset()
    cold = rt.generate(prompt, max_tokens=8)
    assert cached.reused_tokens == len(prompt) - 1
    assert first.token_ids == cached.token_ids == cold.token_ids


def test_should_stop_ends_generation(fresh_runtime: ModelRuntime) -> None:
    seen: list[str] = []

    def stop(text: str) -> bool:
        seen.append(text)
        return len(seen) == 2

    g = fresh_runtime.generate(_prompt(fresh_runtime, CODE_A), max_tokens=20, should_stop=stop)
    assert g.stop_reason == "stop"
    assert len(g.token_ids) == 2
    assert seen[-1] == g.text


def test_max_tokens_and_prefill(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = _prompt(rt, CODE_B)
    g = rt.generate(prompt, max_tokens=0)
    assert g.token_ids == [] and g.stop_reason == "max_tokens"
    assert rt.cached_tokens == prompt
    g = rt.generate(prompt, max_tokens=3, logits_hook=_force(_plain_token(rt)))
    assert len(g.token_ids) == 3 and g.stop_reason == "max_tokens"


def test_invalid_prompts_raise(model_runtime: ModelRuntime) -> None:
    rt = model_runtime
    with pytest.raises(ValueError):
        rt.generate([])
    with pytest.raises(ValueError):
        rt.generate([rt.vocab_size + 5])
    with pytest.raises(ContextOverflowError):
        rt.generate([rt.bos_id or 0] * rt.n_ctx)
    assert rt.generate(_prompt(rt, CODE_B), max_tokens=1).stop_reason in ("eos", "max_tokens")


# ------------------------------------------------------------------------------ logits hook


def _plain_token(rt: ModelRuntime) -> int:
    ids = rt.tokenize("banana")
    return ids[0]


def _force(token: int) -> LogitsHook:
    def hook(_generated: list[int], logits: np.ndarray) -> None:
        logits[:] = -np.inf
        logits[token] = 0.0

    return hook


def test_logits_hook_forces_token_with_zero_copy_view(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    token = _plain_token(rt)
    views: list[np.ndarray] = []

    def hook(generated: list[int], logits: np.ndarray) -> None:
        views.append(logits)
        assert logits.dtype == np.float32 and logits.shape == (rt.vocab_size,)
        assert not logits.flags.owndata  # a view over llama.cpp's buffer, not a copy
        logits[:] = -np.inf
        logits[token] = 0.0

    g = rt.generate(_prompt(rt, CODE_A), max_tokens=4, logits_hook=hook)
    assert g.token_ids == [token] * 4
    assert len(views) == 4


def test_forcing_eos_stops_without_emitting_it(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    assert rt.eos_id is not None
    g = rt.generate(_prompt(rt, CODE_A), max_tokens=8, logits_hook=_force(rt.eos_id))
    assert g.stop_reason == "eos" and g.token_ids == [] and g.text == ""
    assert rt.is_stop_token(rt.eos_id)


# ------------------------------------------------------------------------------ cancellation


def test_cancel_from_hook_after_two_tokens(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    cancel = threading.Event()

    def hook(generated: list[int], _logits: np.ndarray) -> None:
        if len(generated) == 2:
            cancel.set()

    prompt = _prompt(rt, CODE_A)
    g = rt.generate(prompt, max_tokens=30, logits_hook=hook, cancel=cancel)
    assert g.stop_reason == "cancelled"
    assert len(g.token_ids) == 2
    # Still usable, and the cache is consistent with what was evaluated.
    assert rt.cached_tokens == prompt + g.token_ids
    again = rt.generate(prompt, max_tokens=3)
    assert again.stop_reason != "cancelled" and again.token_ids
    assert again.token_ids[:2] == g.token_ids


def test_cancel_before_start_returns_immediately(fresh_runtime: ModelRuntime) -> None:
    cancel = threading.Event()
    cancel.set()
    g = fresh_runtime.generate(_prompt(fresh_runtime, CODE_A), max_tokens=30, cancel=cancel)
    assert g.stop_reason == "cancelled" and g.token_ids == []
    assert fresh_runtime.cached_tokens == []


def test_one_generation_at_a_time(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    results: list[Generation] = []
    prompts = [_prompt(rt, CODE_A), _prompt(rt, CODE_B)]
    threads = [
        threading.Thread(target=lambda p=p: results.append(rt.generate(p, max_tokens=4)))
        for p in prompts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(r.token_ids for r in results)


# ------------------------------------------------------------------------------ KV-cache reuse


def test_extended_prompt_reuses_cache(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = _prompt(rt, CODE_A)
    first = rt.generate(prompt, max_tokens=4)
    extra = rt.tokenize("        for name in filenames:")
    second = rt.generate(prompt + extra, max_tokens=4)
    assert second.reused_tokens >= len(prompt)
    assert second.evaluated_tokens <= len(extra)
    assert second.evaluated_tokens < first.evaluated_tokens


def test_accepting_the_completion_reuses_generated_tokens(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = _prompt(rt, CODE_A)
    first = rt.generate(prompt, max_tokens=6)
    accepted = prompt + first.token_ids
    second = rt.generate(accepted, max_tokens=2)
    assert second.reused_tokens == len(accepted) - 1
    assert second.evaluated_tokens == 1


def test_edit_in_the_middle_evaluates_the_tail(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = _prompt(rt, CODE_A)
    rt.generate(prompt, max_tokens=2)
    cut = len(prompt) // 2
    edited = prompt[:cut] + rt.tokenize("# edited\n") + prompt[cut:]
    g = rt.generate(edited, max_tokens=2)
    assert g.reused_tokens == cut
    assert rt.cached_tokens[: len(edited)] == edited


def test_document_switch_restores_saved_state(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt_a, prompt_b = _prompt(rt, CODE_A), _prompt(rt, CODE_B)
    rt.generate(prompt_a, max_tokens=3, doc_key="a.py")
    g_b = rt.generate(prompt_b, max_tokens=3, doc_key="b.py")
    assert g_b.reused_tokens <= len(rt.fim_template.leading_ids)
    assert not g_b.restored_state
    assert rt.saved_documents == ["a.py"] and rt.current_document == "b.py"

    extra = rt.tokenize("        for f in filenames:")
    g_a = rt.generate(prompt_a + extra, max_tokens=3, doc_key="a.py")
    assert g_a.restored_state
    # Sliding-window models save a document without its last prompt token (see runtime).
    assert g_a.reused_tokens >= len(prompt_a) - (1 if rt.n_swa else 0)
    assert g_a.evaluated_tokens <= len(extra) + 1
    assert "b.py" in rt.saved_documents and "a.py" not in rt.saved_documents

    # And back to b: its state comes back too.
    g_b2 = rt.generate(prompt_b, max_tokens=1, doc_key="b.py")
    assert g_b2.restored_state and g_b2.reused_tokens == len(prompt_b) - 1

    rt.forget_document("a.py")
    assert "a.py" not in rt.saved_documents


def test_long_document_switch_survives_sliding_window(fresh_runtime: ModelRuntime) -> None:
    """Gemma 3 has 512-token sliding-window layers, and llama.cpp saves only that window of
    them; switching back to a longer document must still reuse it, and stay correct."""
    rt = fresh_runtime
    long_code = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(60))
    prompt_a = rt.build_prompt(long_code + "def g(x):\n")
    assert len(prompt_a) > 600
    first = rt.generate(prompt_a, max_tokens=4, doc_key="long.py")
    rt.generate(_prompt(rt, CODE_B), max_tokens=2, doc_key="b.py")

    back = rt.generate(prompt_a, max_tokens=4, doc_key="long.py")
    assert back.restored_state and back.evaluated_tokens == 1
    assert back.token_ids == first.token_ids  # the restored cache computes the same thing

    typed = rt.generate(prompt_a + rt.tokenize("    return"), max_tokens=2, doc_key="long.py")
    assert typed.reused_tokens >= len(prompt_a) - 1

    # An edit far before the restored window cannot reuse a truncated SWA state: full eval.
    edited = prompt_a[:50] + rt.tokenize("# note\n") + prompt_a[50:]
    g = rt.generate(edited, max_tokens=2, doc_key="long.py")
    assert g.reused_tokens == (0 if rt.n_swa else 50)
    assert rt.cached_tokens[: len(edited)] == edited
    again = rt.generate(edited, max_tokens=2, doc_key="long.py")
    assert again.reused_tokens == len(edited) - 1 and again.token_ids == g.token_ids


def test_saved_states_are_bounded(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    base = _prompt(rt, CODE_B)
    for i in range(7):
        rt.generate(base + rt.tokenize(f"# doc {i}\n"), max_tokens=0, doc_key=f"doc{i}")
    assert len(rt.saved_documents) <= 4
    assert rt.saved_documents[-1] == "doc5"


def test_state_cache_lru_bounds() -> None:
    def state(n: int) -> SavedState:
        return SavedState((1, 2, 3), (ctypes.c_uint8 * n)())

    cache = StateCache(max_states=2, max_bytes=100)
    cache.put("a", state(40))
    cache.put("b", state(40))
    cache.put("c", state(40))  # evicts a by count
    assert list(cache) == ["b", "c"] and cache.total_bytes == 80
    cache.put("d", state(90))  # evicts b and c by bytes
    assert list(cache) == ["d"] and cache.total_bytes == 90
    cache.put("huge", state(500))  # larger than the budget: not kept
    assert "huge" not in cache
    assert cache.best_match([1, 2, 9]) == ("d", 2)
    assert cache.pop("d") is not None and cache.total_bytes == 0


# ------------------------------------------------------------------------------ vocabulary


def test_tokenize_detokenize_and_pieces(model_runtime: ModelRuntime) -> None:
    rt = model_runtime
    text = "def f(x):\n    return x * 2  # ünïcode ✓\n"
    ids = rt.tokenize(text)
    assert ids and rt.detokenize(ids) == text
    assert rt.bos_id is not None and rt.bos_id not in ids  # no BOS added by tokenize
    pieces = rt.token_pieces()
    assert len(pieces) == rt.vocab_size
    assert pieces is rt.token_pieces()  # computed once
    assert b"".join(pieces[t] for t in ids) == text.encode()
    # Special-token text in user code is not parsed unless asked for.
    assert rt.eos_id is not None
    eos_text = rt.detokenize([rt.eos_id], special=True)
    assert rt.eos_id not in rt.tokenize(eos_text)
    assert rt.tokenize(eos_text, special=True) == [rt.eos_id]


def test_runtime_metadata(model_runtime: ModelRuntime, default_model_path: Path) -> None:
    rt = model_runtime
    arch = validate_gguf(default_model_path).architecture
    assert arch and rt.architecture == arch == rt.metadata["general.architecture"]
    assert rt.n_ctx == 2048
    assert rt.eos_id is not None and rt.eot_id is not None
    expected_layers = -1 if llama.llama_supports_gpu_offload() else 0
    assert rt.n_gpu_layers == expected_layers


# ------------------------------------------------------------------------------ model files


def test_registry_and_default() -> None:
    assert DEFAULT_MODEL in EMBEDDED_MODELS
    assert set(EMBEDDED_MODELS) == {"gemma3-270m", "smollm2-135m"}
    assert embedded_model_for(None) is EMBEDDED_MODELS[DEFAULT_MODEL]
    assert embedded_model_for("SmolLM2") is EMBEDDED_MODELS["smollm2-135m"]
    assert embedded_model_for("/some/file.gguf") is None


def test_resolve_embedded_models(default_model_path: Path) -> None:
    assert default_model_path.suffix == ".gguf" and default_model_path.is_file()
    smol = resolve_model("smollm2-135m")
    assert smol.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert validate_gguf(smol).architecture == "llama"
    assert resolve_model(str(smol)) == smol  # a plain path works too


def test_gemma_is_assembled_once_into_the_cache_dir(tmp_path: Path) -> None:
    path = resolve_model("gemma3-270m", cache_dir=tmp_path)
    assert path.parent == tmp_path
    assert validate_gguf(path).architecture == "gemma3"
    stamp = path.stat().st_mtime_ns
    assert resolve_model("gemma3-270m", cache_dir=tmp_path) == path
    assert path.stat().st_mtime_ns == stamp  # reused, not rewritten
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left
    path.write_bytes(b"GGUF partial")  # a damaged cached copy is replaced
    assert validate_gguf(resolve_model("gemma3-270m", cache_dir=tmp_path)).tensor_count > 0


def test_missing_model_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(ModelNotFoundError, match=re.escape(str(missing))):
        resolve_model(str(missing))
    with pytest.raises(ModelNotFoundError, match=re.escape(str(missing))):
        ModelRuntime(missing)
    with pytest.raises(ModelNotFoundError, match="embedded models"):
        resolve_model("no-such-model")


def test_garbage_file_is_a_load_error(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.gguf"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(ModelLoadError, match=re.escape(str(bad))) as info:
        resolve_model(str(bad))
    assert info.value.path == bad.resolve()
    with pytest.raises(ModelLoadError, match=re.escape(str(bad))):
        ModelRuntime(bad)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelLoadError, match="truncated or empty"):
        ModelRuntime(empty)


def test_truncated_gguf_is_a_load_error(tmp_path: Path, default_model_path: Path) -> None:
    data = default_model_path.read_bytes()
    header_cut = tmp_path / "header-cut.gguf"
    header_cut.write_bytes(data[:4096])
    with pytest.raises(ModelLoadError, match=re.escape(str(header_cut))):
        ModelRuntime(header_cut)
    data_cut = tmp_path / "data-cut.gguf"
    data_cut.write_bytes(data[:-1])
    with pytest.raises(ModelLoadError, match="truncated"):
        ModelRuntime(data_cut)


def test_llama_cpp_rejection_is_a_load_error(tmp_path: Path) -> None:
    def gguf_string(s: str) -> bytes:
        raw = s.encode()
        return struct.pack("<Q", len(raw)) + raw

    odd = tmp_path / "unknown-arch.gguf"
    odd.write_bytes(
        b"GGUF"
        + struct.pack("<IQQ", 3, 0, 1)
        + gguf_string("general.architecture")
        + struct.pack("<I", 8)
        + gguf_string("not-a-real-arch")
    )
    assert validate_gguf(odd).architecture == "not-a-real-arch"  # header is fine
    with pytest.raises(ModelLoadError, match=re.escape(str(odd))) as info:
        ModelRuntime(odd)
    assert "not-a-real-arch" in str(info.value)  # llama.cpp's own reason is included
