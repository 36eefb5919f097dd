"""tools/install.sh's PyTorch decision (tools/torch_plan.py), driven with fakes: no network."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("torch_plan", ROOT / "tools" / "torch_plan.py")
tp = importlib.util.module_from_spec(_spec)
sys.modules["torch_plan"] = tp  # dataclasses look their module up
_spec.loader.exec_module(tp)  # type: ignore[union-attr]

CPU_REPORT = {
    "install": [
        {"metadata": {"name": "torch", "version": "2.13.0+cpu"}},
        {"metadata": {"name": "sympy", "version": "1.13"}},
    ]
}
CUDA_REPORT = {
    "install": [
        {"metadata": {"name": "torch", "version": "2.13.0"}},
        {"metadata": {"name": "nvidia-cudnn-cu12", "version": "9.1"}},
        {"metadata": {"name": "nvidia-nccl-cu12", "version": "2.21"}},
    ]
}


def _never():
    raise AssertionError("this probe must not run in this case")


def test_gpu_installs_the_cuda_build_without_probing():
    plan = tp.decide(torch_installed=None, gpu=True, cpu_index_ok=_never, configured=_never)
    assert plan.case == "cuda" and plan.pip_args == [tp.PIN] and "cuda" in plan.extras
    assert "--index-url" not in plan.pip_args


def test_no_gpu_reachable_index_installs_the_cpu_build():
    plan = tp.decide(torch_installed=None, gpu=False, cpu_index_ok=lambda: True, configured=_never)
    assert plan.case == "cpu-index"
    assert plan.pip_args == [tp.PIN, "--index-url", tp.CPU_INDEX]
    # gsplat comes with the CPU build too (the CPU optimiser densifies with its strategy)
    assert "cuda" not in plan.extras and plan.extras == ["torch"]


def test_no_gpu_unreachable_index_uses_a_configured_cpu_wheel():
    plan = tp.decide(
        torch_installed=None, gpu=False, cpu_index_ok=lambda: False, configured=lambda: CPU_REPORT
    )
    assert plan.case == "configured" and plan.pip_args == [tp.PIN]
    assert "2.13.0+cpu" in plan.message


@pytest.mark.parametrize("report", [CUDA_REPORT, None])
def test_no_gpu_unreachable_index_never_falls_back_to_cuda(report):
    plan = tp.decide(
        torch_installed=None, gpu=False, cpu_index_ok=lambda: False, configured=lambda: report
    )
    assert plan.case == "skip" and plan.pip_args is None and plan.extras == []
    assert "NOT installed" in plan.message and "--index-url " + tp.CPU_INDEX in plan.message


def test_installed_torch_is_kept():
    plan = tp.decide(
        torch_installed="2.13.0+cpu", gpu=False, cpu_index_ok=_never, configured=_never
    )
    assert plan.case == "installed" and plan.pip_args is None


def test_cuda_packages_found_in_a_pip_report():
    assert tp.cuda_packages(CUDA_REPORT) == ["nvidia-cudnn-cu12", "nvidia-nccl-cu12"]
    assert tp.cuda_packages(CPU_REPORT) == []
    assert tp.cuda_packages(
        {"install": [{"metadata": {"name": "torch", "version": "2.5.0+cu124"}}]}
    ) == ["torch"]


def test_gpu_detection_from_nvidia_smi_and_proc(monkeypatch):
    monkeypatch.delenv("WANDER_GPU", raising=False)
    smi = "GPU 0: NVIDIA H200 (UUID: GPU-1234)\n"
    assert tp.has_nvidia_gpu(run=lambda cmd: smi, gpu_dirs=lambda: [])
    assert not tp.has_nvidia_gpu(run=lambda cmd: None, gpu_dirs=lambda: [])
    assert not tp.has_nvidia_gpu(run=lambda cmd: "No devices were found\n", gpu_dirs=lambda: [])
    assert tp.has_nvidia_gpu(
        run=lambda cmd: None, gpu_dirs=lambda: ["/proc/driver/nvidia/gpus/0000"]
    )
    monkeypatch.setenv("WANDER_GPU", "0")
    assert not tp.has_nvidia_gpu(run=lambda cmd: smi, gpu_dirs=lambda: [])


def test_unreachable_index_answers_false_quickly():
    # port 9 (discard) on localhost: refused at once, no network involved
    assert tp.index_reachable("http://127.0.0.1:9/whl/cpu", timeout=2) is False


@pytest.mark.slow
def test_command_line_prints_a_plan(monkeypatch):
    env = {"WANDER_GPU": "1", "WANDER_TORCH": "torch==2.13.0", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "torch_plan.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    plan = json.loads(out)
    assert set(plan) == {"pip_args", "extras", "message", "case"}
    assert plan["extras"] == ["cuda"]
