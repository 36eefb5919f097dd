"""Whether Wander's compiled CPU kernels are on disk for this checkout.

The CPU rasterisers (`viewer.cpu_splat` for the viewer's and `render`'s frames,
`generators.splat_cpu` for a world's photo fit and a reconstruction's optimisation) are
numba kernels with `cache=True`: their machine code is kept in `__pycache__` beside the
source, keyed by the source file's stamp. A fresh checkout, or one whose kernels changed,
compiles them on first use: 1-2 minutes on a 2-core machine, during which a command printed
nothing (a new user's first `render` sat silent for 108 s). `tools/install.sh` compiles them
ahead of time (`warm_up`).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

log = logging.getLogger(__name__)

#: module -> kernels whose cache stands for the module's (its first and last to run)
KERNELS = {
    "viewer.cpu_splat": ("_project", "_raster"),
    "generators.splat_cpu": ("_project_fwd", "_raster_fwd"),
}
#: the kernel modules a command's work runs (the viewer's frames on a software GL; a
#: world's photo fit; a reconstruction's optimisation on the CPU)
COMMAND_KERNELS = {
    "world": ("generators.splat_cpu",),
    "reconstruct": ("generators.splat_cpu",),
    "render": ("viewer.cpu_splat",),
    "video": ("viewer.cpu_splat",),
    "evaluate": ("viewer.cpu_splat",),
}
COLD_NOTE = (
    "note: Wander's CPU kernels are not compiled for this checkout yet; their first use "
    "compiles them, once (1-2 minutes on a 2-core machine; `bash tools/install.sh` does it "
    "ahead of time)"
)


def is_cached(dispatcher: Any) -> bool:
    """Whether numba has machine code on disk for `dispatcher` (an `@njit(cache=True)`
    function) that matches its current source: the cache's index exists, is of this numba
    version and has the source file's stamp. Reads numba's cache index through its
    internals (numba 0.5x-0.6x); where those are not as expected, True (nothing to say)."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # numba's internals moved: better silent than a false warning
        log.debug("could not read numba's cache index for %r", dispatcher, exc_info=True)
        return True


def cold_kernels(modules: tuple[str, ...] | None = None) -> list[str]:
    """Those of `modules` (default: all of `KERNELS`) that will compile on first use (empty
    when all are on disk)."""
    cold = []
    for mod_name in KERNELS if modules is None else modules:
        names = KERNELS[mod_name]
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:  # an install without numba: nothing compiles
            log.debug("no %s", mod_name, exc_info=True)
            continue
        if not all(is_cached(getattr(mod, n)) for n in names):
            cold.append(mod_name)
    return cold


def cold_note(command: str | None) -> str | None:
    """`COLD_NOTE` when `command`'s kernels (`COMMAND_KERNELS`) will compile, else None."""
    modules = COMMAND_KERNELS.get(command or "")
    return COLD_NOTE if modules and cold_kernels(modules) else None
