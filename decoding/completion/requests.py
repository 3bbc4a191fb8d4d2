"""What a completion is asked with and what it answers (no LSP types: the server converts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MODES = ("plain", "rag", "grounded", "blind")  # blind: the type-blind baseline monitor


@dataclass(slots=True)
class CompleterSettings:
    model: str | None = None  # a GGUF path or an embedded model name; None = the default
    mode: str = "grounded"
    max_tokens: int = 64
    prefix_budget: int = 1024  # tokens of the file before the cursor
    context_budget: int = 384  # tokens of repository context (rag, grounded)
    n_ctx: int = 4096
    threads: int | None = None
    gpu_layers: int | None = None
    use_pyright: bool = True  # ask pyright where the index cannot resolve a receiver


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    workspace: Path
    path: str  # relative to the workspace
    text: str  # the buffer as the editor has it; may end at the cursor
    line: int
    character: int  # UTF-16 code units, as LSP counts them
    mode: str | None = None  # None: the settings' mode
    max_tokens: int | None = None  # None: the settings' max_tokens


@dataclass(slots=True)
class CompletionResult:
    text: str
    mode: str
    model: str
    latency_ms: float
    prompt_tokens: int = 0
    reused_tokens: int = 0
    generated_tokens: int = 0
    tokens_per_s: float = 0.0
    stop_reason: str = ""
    multiline: bool = False
    raw: str = ""
    context_sources: list[str] = field(default_factory=list)
    receiver: str | None = None
    avoided_deprecations: list[str] = field(default_factory=list)
    constrained_steps: int = 0
    rescored_positions: int = 0  # identifier positions decided by whole-name scoring
    mask_ms: float = 0.0  # time spent in the monitor's logits hook, analysis included
    analysis_ms: float = 0.0  # of which: computing legal sets (index, pyright, parsing)
    scoring_ms: float = 0.0  # of which: whole-name scoring on the model
    decode_ms: float = 0.0
    legal_set_sources: dict[str, int] = field(default_factory=dict)  # index | pyright | ...

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def check_request(request: CompletionRequest, default_mode: str) -> str:
    """The request's mode, checked; modes that read the repository also need a workspace
    folder that exists and a document path inside it (never an absolute path or one that
    climbs out with `..`)."""
    mode = request.mode or default_mode
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode != "plain":
        if not request.workspace.is_dir():
            raise ValueError(f"workspace {request.workspace} is not a directory")
        root = request.workspace.resolve()
        if Path(request.path).is_absolute() or not (
                root / request.path).resolve().is_relative_to(root):
            raise ValueError(f"path {request.path!r} is not inside the workspace {root}")
    return mode
