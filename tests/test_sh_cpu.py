"""Fused CPU SH colours (generators.sh_cpu) against their PyTorch twin (optimize.sh_colors)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")

from generators.reconstruct.optimize import sh_colors  # noqa: E402
from generators.sh_cpu import sh_colors_cpu, supports  # noqa: E402


def _twin(means, sh0, shN, campos, degree):  # noqa: ANN001, ANN202
    d = means - torch.as_tensor(campos, dtype=means.dtype)
    d = d / d.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return sh_colors(sh0, shN, d, degree)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("degree", [0, 1])
def test_colours_and_gradients_match_the_pytorch_twin(dtype: torch.dtype, degree: int) -> None:
    rng = np.random.default_rng(degree)
    n = 500
    base = {
        "means": rng.normal(0, 2, (n, 3)),
        "sh0": rng.normal(0, 1.5, (n, 3)),  # some channels below zero: clamped
        "shN": rng.normal(0, 0.5, (n, 3, 3)),
    }
    campos = np.array([0.3, -0.2, -4.0])
    target = torch.as_tensor(rng.uniform(0, 1, (n, 3)), dtype=dtype)
    out = {}
    for name, fn in (("fused", sh_colors_cpu), ("twin", _twin)):
        p = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in base.items()}
        c = fn(p["means"], p["sh0"], p["shN"], campos, degree)
        ((c - target) ** 2).sum().backward()
        out[name] = (
            c.detach(),
            {k: torch.zeros_like(v) if v.grad is None else v.grad for k, v in p.items()},
        )
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    (ca, ga), (cb, gb) = out["fused"], out["twin"]
    assert (cb == 0).any() and (cb > 0).any()  # the clamp is exercised
    assert float((ca - cb).abs().max()) < tol
    for k in ("means", "sh0", "shN"):
        scale = max(1.0, float(gb[k].abs().max()))
        assert float((ga[k] - gb[k]).abs().max()) < tol * scale, k
    if degree == 0:
        assert float(ga["means"].abs().max()) == 0.0 and float(ga["shN"].abs().max()) == 0.0
    else:
        assert float(ga["means"].abs().max()) > 0.0


def test_degrees_it_does_not_evaluate_are_refused() -> None:
    m = torch.zeros((2, 3))
    assert supports(1) and not supports(2)
    with pytest.raises(ValueError, match="degree"):
        sh_colors_cpu(m, m, torch.zeros((2, 8, 3)), np.zeros(3), 2)
    with pytest.raises(ValueError, match="coefficients"):
        sh_colors_cpu(m, m, torch.zeros((2, 0, 3)), np.zeros(3), 1)
