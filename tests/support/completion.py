"""Completing as an editor session does: the buffer's owner writes it into the index, then
asks the engine (which only reads)."""

from __future__ import annotations

import threading

from tether.decoding.completion.engine import Completer
from tether.decoding.completion.requests import CompletionRequest, CompletionResult


def complete(completer: Completer, request: CompletionRequest,
             cancel: threading.Event | None = None) -> CompletionResult:
    completer.sync_buffer(request)
    return completer.complete(request, cancel)
