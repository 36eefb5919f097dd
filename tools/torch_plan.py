"""Which PyTorch build `tools/install.sh` installs, and from where (standard library only:
it runs before anything else is installed).

The decision (`decide`), in order:

1. torch already importable → keep it (nothing to install).
2. An NVIDIA GPU present (`nvidia-smi -L` lists one, or /proc/driver/nvidia/gpus/ has an
   entry) → the CUDA build from pip's usual index (plus gsplat, the CUDA rasterizer).
3. No GPU and PyTorch's CPU wheel index answers within a few seconds → the CPU build from
   that index (about 190 MB instead of 2+ GB of CUDA libraries).
4. No GPU and that index cannot be reached → what pip's own configured sources would install
   (a local wheel folder, a company mirror), but only when pip's dry-run report shows it pulls
   no `nvidia-*` package; otherwise torch is left out with a message saying what that costs
   and the one command to add it later. Wander's `classical` generators need no torch.

`WANDER_GPU=1|0` forces the GPU answer, `WANDER_TORCH` the requirement (default `torch==PIN`),
`WANDER_TORCH_INDEX` the CPU index URL, `WANDER_PROBE_TIMEOUT` the probe's seconds.

Command line: `python tools/torch_plan.py` prints the plan as JSON (install.sh reads it).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

PIN = "torch==2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_TIMEOUT_S = 5.0


@dataclass
class Plan:
    """What to install: `pip_args` for torch (None: install no torch), pyproject `extras` for
    `pip install -e .[...]`, and one human `message` saying what happens and why."""

    pip_args: list[str] | None
    extras: list[str] = field(default_factory=list)
    message: str = ""
    case: str = ""  # "installed" | "cuda" | "cpu-index" | "configured" | "skip"


def has_nvidia_gpu(
    run: Callable[[Sequence[str]], str | None] | None = None,
    gpu_dirs: Callable[[], list[str]] | None = None,
) -> bool:
    """True when an NVIDIA GPU is visible: `nvidia-smi -L` lists a "GPU n:" line or the
    driver exposes /proc/driver/nvidia/gpus/*. `WANDER_GPU=1|0` overrides."""
    forced = os.environ.get("WANDER_GPU", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    run = run or _run_quiet
    gpu_dirs = gpu_dirs or (lambda: glob.glob("/proc/driver/nvidia/gpus/*"))
    out = run(["nvidia-smi", "-L"])
    if out and any(line.strip().startswith("GPU ") for line in out.splitlines()):
        return True
    return bool(gpu_dirs())


def _run_quiet(cmd: Sequence[str]) -> str | None:
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def index_reachable(url: str = CPU_INDEX, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when `url`/torch/ answers an HTTP request within `timeout` seconds."""
    req = urllib.request.Request(url.rstrip("/") + "/torch/", method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - fixed https URL
            return 200 <= r.status < 400
    except (urllib.error.URLError, OSError, ValueError):
        return False


def cuda_packages(report: dict) -> list[str]:
    """Names of `nvidia-*` (CUDA runtime) packages in a `pip install --report` JSON, and
    torch itself when its version is a CUDA local build (+cuXXX)."""
    names = []
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        name = str(meta.get("name", "")).lower()
        if name.startswith("nvidia-") or (
            name == "torch" and "+cu" in str(meta.get("version", ""))
        ):
            names.append(name)
    return names


def configured_report(requirement: str, python: str = sys.executable) -> dict | None:
    """pip's dry-run report for `requirement` from pip's configured sources, or None when
    pip could not resolve it (no network, no such wheel)."""
    try:
        r = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--dry-run",
                "--quiet",
                "--ignore-installed",
                "--report",
                "-",
                requirement,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        return None


def decide(
    *,
    torch_installed: str | None,
    gpu: bool,
    cpu_index_ok: Callable[[], bool],
    configured: Callable[[], dict | None],
    requirement: str = PIN,
    cpu_index: str = CPU_INDEX,
) -> Plan:
    """The install plan from the facts (probes are callables: only asked when needed)."""
    # gsplat comes with torch on every machine: the CPU optimiser uses its densification
    # strategy (pure Python); only the "skip" plan (no torch) installs neither
    extras = ["cuda"] if gpu else ["torch"]
    if torch_installed:
        return Plan(
            None, extras, f"PyTorch {torch_installed} is already installed: kept.", "installed"
        )
    if gpu:
        return Plan(
            [requirement],
            extras,
            f"NVIDIA GPU found: installing the CUDA build of PyTorch ({requirement}).",
            "cuda",
        )
    if cpu_index_ok():
        return Plan(
            [requirement, "--index-url", cpu_index],
            extras,
            f"No NVIDIA GPU: installing the CPU build of PyTorch from {cpu_index}.",
            "cpu-index",
        )
    report = configured()
    if report is not None and not cuda_packages(report):
        torch = next(
            (
                i.get("metadata", {}).get("version")
                for i in report.get("install", [])
                if str(i.get("metadata", {}).get("name", "")).lower() == "torch"
            ),
            "?",
        )
        return Plan(
            [requirement],
            extras,
            f"No NVIDIA GPU; PyTorch's CPU index is unreachable, but pip's configured "
            f"sources offer torch {torch} without CUDA packages: installing that.",
            "configured",
        )
    why = (
        "would pull CUDA packages (" + ", ".join(cuda_packages(report)[:3]) + ", ...)"
        if report is not None
        else "could not resolve torch"
    )
    return Plan(
        None,
        [],
        f"No NVIDIA GPU, PyTorch's CPU index ({cpu_index}) did not answer and pip's own "
        f"sources {why}: PyTorch is NOT installed. The classical generators, the app and "
        f"every file format work without it; reconstruction's refinement step and the "
        f"neural backends need it. Add it later with:\n"
        f"  python -m pip install {requirement} --index-url {cpu_index}",
        "skip",
    )


def torch_version() -> str | None:
    try:
        r = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def main() -> int:
    requirement = os.environ.get("WANDER_TORCH") or PIN
    cpu_index = os.environ.get("WANDER_TORCH_INDEX") or CPU_INDEX
    timeout = float(os.environ.get("WANDER_PROBE_TIMEOUT") or PROBE_TIMEOUT_S)
    plan = decide(
        torch_installed=torch_version(),
        gpu=has_nvidia_gpu(),
        cpu_index_ok=lambda: index_reachable(cpu_index, timeout),
        configured=lambda: configured_report(requirement),
        requirement=requirement,
        cpu_index=cpu_index,
    )
    print(json.dumps(asdict(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
