"""Model manager: which neural backends Wander knows, where their weights live (the standard
Hugging Face cache), whether they are there, how to fetch them, and on which device they run.

- `registry`: every backend (name, kind, repos, licence, size, VRAM, packages);
- `hub`: cache state (missing / downloaded / broken) and resolution to a local snapshot;
- `download`: `snapshot_download` with progress, resume, cancel and the licence prompt;
- `device`: CUDA / MPS / CPU choice, dtype and the early VRAM refusal;
- `verify`: load a backend and run one tiny inference.
"""

from .hub import ModelMissing, resolve
from .registry import BACKENDS, Backend, get_backend

__all__ = ["BACKENDS", "Backend", "ModelMissing", "get_backend", "resolve"]
