"""Vocabulary access for :class:`decoding.model.runtime.ModelRuntime`: tokenize, detokenize, pieces.

Read-only use of the llama.cpp vocabulary; safe to call from several threads at once, but not
concurrently with ``ModelRuntime.close()``.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence

from llama_cpp import llama_cpp as llama

from tether.decoding.model.fim import VocabInfo
from tether.decoding.model.llama_handles import LlamaHandles

__all__ = ["Vocabulary"]

_ATTR_CONTROL = llama.LLAMA_TOKEN_ATTR_CONTROL
_ATTR_SPECIAL = llama.LLAMA_TOKEN_ATTR_CONTROL | llama.LLAMA_TOKEN_ATTR_USER_DEFINED


def _opt(token: int) -> int | None:
    return token if token >= 0 else None


class Vocabulary:
    """Tokenizer view of a loaded model."""

    def __init__(self, handles: LlamaHandles) -> None:
        self._handles = handles
        vocab = handles.vocab
        self.size: int = llama.llama_vocab_n_tokens(vocab)
        self.bos_id = _opt(llama.llama_vocab_bos(vocab))
        self.eos_id = _opt(llama.llama_vocab_eos(vocab))
        self.eot_id = _opt(llama.llama_vocab_eot(vocab))
        self.add_bos: bool = bool(llama.llama_vocab_get_add_bos(vocab))
        self.add_space_prefix = handles.metadata.get("tokenizer.ggml.add_space_prefix") == "true"
        self.special_tokens: dict[str, int] = {}
        """Text -> id of control and user-defined tokens (first id wins)."""
        self.control_ids: set[int] = set()
        for tok in range(self.size):
            attr = llama.llama_vocab_get_attr(vocab, tok)
            if attr & _ATTR_SPECIAL:
                text = llama.llama_vocab_get_text(vocab, tok) or b""
                self.special_tokens.setdefault(text.decode("utf-8", "replace"), tok)
                if attr & _ATTR_CONTROL:
                    self.control_ids.add(tok)
        self._pieces: list[bytes] | None = None
        self._pieces_lock = threading.Lock()
        self.info = VocabInfo(
            lookup=self.lookup_special,
            bos_id=self.bos_id,
            eos_id=self.eos_id,
            eot_id=self.eot_id,
            add_bos=self.add_bos,
            llama_fim=(
                _opt(llama.llama_vocab_fim_pre(vocab)),
                _opt(llama.llama_vocab_fim_suf(vocab)),
                _opt(llama.llama_vocab_fim_mid(vocab)),
            ),
        )

    @property
    def _vocab(self) -> llama.llama_vocab_p:
        if self._handles.freed:
            raise RuntimeError(f"model {self._handles.path} is closed")
        return self._handles.vocab

    def is_eog(self, token: int) -> bool:
        return bool(llama.llama_vocab_is_eog(self._vocab, token))

    def lookup_special(self, text: str) -> int | None:
        """Id of the special token spelled exactly ``text``, if the vocabulary has one."""
        token = self.special_tokens.get(text)
        if token is not None:
            return token
        ids = self.tokenize(text, special=True)
        if len(ids) == 1 and self.detokenize(ids, special=True) == text:
            return ids[0]
        return None

    def tokenize(
        self, text: str, *, special: bool = False, continuation: bool = False
    ) -> list[int]:
        """See :meth:`decoding.model.runtime.ModelRuntime.tokenize`."""
        if continuation and self.add_space_prefix and text:
            return self._tokenize_continuation(text, special)
        data = text.encode("utf-8")
        vocab = self._vocab
        capacity = len(data) + 8
        buf = (llama.llama_token * capacity)()
        n = llama.llama_tokenize(vocab, data, len(data), buf, capacity, False, special)
        if n < 0:
            capacity = -n
            buf = (llama.llama_token * capacity)()
            n = llama.llama_tokenize(vocab, data, len(data), buf, capacity, False, special)
            if n < 0:  # pragma: no cover - llama.cpp reported a size it then exceeded
                raise RuntimeError(f"llama_tokenize failed ({n}) for {len(data)} bytes")
        return buf[:n]

    def _tokenize_continuation(self, text: str, special: bool) -> list[int]:
        # "\n" is a byte-fallback token in SentencePiece vocabularies and never merges, so the
        # ids after it are the tokenization of `text` without the dummy leading space.
        ids = self.tokenize("\n" + text, special=special)
        for k in range(1, min(3, len(ids)) + 1):
            if self.detokenize(ids[:k]) in ("\n", " \n") and self.detokenize(ids[k:]) == text:
                return ids[k:]
        return self.tokenize(text, special=special)

    def piece(self, token: int, special: bool = False) -> bytes:
        """Bytes a token decodes to (control tokens: ``b""`` unless ``special``)."""
        vocab = self._vocab
        buf = ctypes.create_string_buffer(64)
        n = llama.llama_token_to_piece(vocab, token, buf, 64, 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama.llama_token_to_piece(vocab, token, buf, -n, 0, special)
        return buf.raw[: max(n, 0)]

    def pieces(self) -> list[bytes]:
        """Decoded bytes of every token, indexed by id; computed once."""
        if self._pieces is None:
            with self._pieces_lock:
                if self._pieces is None:
                    self._pieces = [self.piece(t) for t in range(self.size)]
        return self._pieces

    def detokenize(self, token_ids: Sequence[int], *, special: bool = False) -> str:
        pieces = self._pieces
        if pieces is not None and not special:
            data = b"".join(pieces[t] for t in token_ids)
        else:
            data = b"".join(self.piece(t, special) for t in token_ids)
        return data.decode("utf-8", errors="replace")
