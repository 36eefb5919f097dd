"""The CPU's cores for Wander's compiled kernels, not for idle BLAS threads.

numpy's OpenBLAS starts one worker thread per core and, after every matrix product, keeps
them spinning for a while (OpenBLAS's THREAD_TIMEOUT, about 0.1 s) in case another comes.
Wander's frames and its optimiser alternate small numpy products (`means @ rows`: depths of
a million splats, a gemv of width 3 that one thread does at memory speed) with numba
kernels that want every core. On this project's 2-core machine the spinning worker took
one of them: a moving frame of bench/render.py's 1M-splat walk spent 20.4 ms projecting
and 26.5 ms compositing a 200k-splat cut, 12.4 and 17.7 ms with BLAS held to one thread
(`cpu_splat.render`'s stats, the same frames). So numpy's BLAS gets one thread; the
user's own OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, when set, are kept.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

#: environment variables by which a user sets BLAS threads themselves (then left alone)
USER_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_limiter = None  # the threadpoolctl limiter kept for the process's life
_before: int | None = None  # BLAS threads before it


def limit_blas_threads() -> int | None:
    """Hold numpy's BLAS (OpenBLAS, MKL, BLIS; through threadpoolctl) to one thread for
    the rest of the process, unless the environment sets a thread count itself.

    Returns the threads BLAS had before the first call (None when left alone: set by the
    user, or no BLAS library found). Idempotent. Never raises: a failure is logged and
    BLAS keeps its threads."""
    global _limiter, _before
    if _limiter is not None:
        return _before
    if any(os.environ.get(k) for k in USER_SETTINGS):
        return None
    try:
        import numpy  # noqa: F401 - loads the BLAS library threadpoolctl is to find
        from threadpoolctl import threadpool_info, threadpool_limits

        before = [p.get("num_threads", 0) for p in threadpool_info() if p["user_api"] == "blas"]
        if not before:
            return None
        _limiter = threadpool_limits(limits=1, user_api="blas")
        _before = max(before)
        log.debug("numpy's BLAS: %d threads -> 1", _before)
        return _before
    except Exception:  # noqa: BLE001 - a speed setting; Wander works without it
        log.warning("could not limit numpy's BLAS threads", exc_info=True)
        return None
