"""`runtime.route_gemm_to_openblas`: torch's CPU matrix products computed by numpy's
OpenBLAS, with autograd, `out=` and in-place forms intact.

The override holds for the rest of a process, so each check runs in a fresh interpreter
(the probe below) and this test process keeps torch's own kernels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = r"""
import json, numpy as np, torch
from symbiote_core.runtime import route_gemm_to_openblas

torch.manual_seed(0)
a, b = torch.randn(64, 300), torch.randn(300, 50)
c, bias = torch.randn(64, 50), torch.randn(50)
A, B, C = torch.randn(3, 40, 30), torch.randn(3, 30, 20), torch.randn(3, 40, 20)
before = {"mm": (a @ b).numpy().copy(), "bmm": torch.bmm(A, B).numpy().copy()}
route_gemm_to_openblas()
route_gemm_to_openblas()  # idempotent
r = {}
blas = lambda x, y: np.matmul(x.numpy(), y.numpy())
r["mm_is_openblas"] = bool(np.array_equal((a @ b).numpy(), blas(a, b)))
r["mm_differs_from_mkl"] = not np.array_equal((a @ b).numpy(), before["mm"])
r["mm_close_to_mkl"] = bool(np.allclose((a @ b).numpy(), before["mm"], atol=1e-4))
r["bmm_is_openblas"] = bool(np.array_equal(torch.bmm(A, B).numpy(), blas(A, B)))
r["bmm_close_to_mkl"] = bool(np.allclose(torch.bmm(A, B).numpy(), before["bmm"], atol=1e-4))
# Transposed views go to BLAS as they are (as numpy passes them); other strides are
# made contiguous first.
t = b.t().contiguous().t()
r["transposed"] = bool(np.array_equal((a @ t).numpy(), np.matmul(a.numpy(), t.numpy())))
r["strided"] = bool(torch.equal(a[:, ::2] @ b[::2], a[:, ::2].contiguous() @ b[::2].contiguous()))
r["addmm"] = bool(torch.allclose(torch.addmm(bias, a, b, beta=0.5, alpha=2), 0.5 * bias + 2 * blas(a, b)))
r["addmm_beta0_ignores_nan"] = bool(torch.isfinite(torch.addmm(torch.full((50,), float("nan")), a, b, beta=0)).all())
r["baddbmm"] = bool(torch.allclose(torch.baddbmm(C, A, B, alpha=0.3), C + 0.3 * torch.from_numpy(blas(A, B))))
out = torch.empty(0)
torch.mm(a, b, out=out)
r["out"] = bool(torch.equal(out, a @ b))
inplace = c.clone().addmm_(a, b)
r["in_place"] = bool(torch.equal(inplace, torch.addmm(c, a, b)))
r["linear_3d"] = bool(torch.allclose(torch.nn.functional.linear(A, b[:30].t(), bias[:50]), A @ b[:30] + bias))
r["integers"] = torch.mm(torch.arange(6).view(2, 3), torch.arange(6).view(3, 2)).tolist()
r["bfloat16"] = str(torch.mm(a.bfloat16(), b.bfloat16()).dtype)
try:
    torch.mm(a, a)
    r["mismatch"] = None
except RuntimeError as error:
    r["mismatch"] = str(error)
# Gradients through every routed op: autograd sits above the override.
x = [torch.randn(s, dtype=torch.float64, requires_grad=True) for s in ((4, 5, 6), (4, 6, 3), (4, 5, 3))]
r["grad_baddbmm"] = torch.autograd.gradcheck(lambda p, q, s: torch.baddbmm(s, p, q, alpha=0.7), x)
y = [torch.randn(s, dtype=torch.float64, requires_grad=True) for s in ((5, 6), (6, 3), (3,))]
r["grad_addmm"] = torch.autograd.gradcheck(lambda p, q, s: torch.addmm(s, p, q, beta=0.5), y)
r["grad_einsum"] = torch.autograd.gradcheck(lambda p, q: torch.einsum("bij,bjk->bik", p, q), x[:2])
print(json.dumps(r))
"""


def _probe(**env: str) -> tuple[dict, str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1]), result.stdout


def test_routed_products_are_openblas_products_with_torchs_semantics() -> None:
    r, _ = _probe()
    assert r["mm_is_openblas"] and r["bmm_is_openblas"]
    # MKL rounds otherwise on this input (so the first check could fail), within float32.
    assert r["mm_differs_from_mkl"] and r["mm_close_to_mkl"] and r["bmm_close_to_mkl"]
    for check in ("transposed", "strided", "addmm", "addmm_beta0_ignores_nan", "baddbmm"):
        assert r[check], check
    assert r["out"] and r["in_place"] and r["linear_3d"]
    assert r["integers"] == [[10, 13], [28, 40]]
    assert r["bfloat16"] == "torch.bfloat16"
    assert r["mismatch"] is not None and "cannot be multiplied" in r["mismatch"]
    assert r["grad_baddbmm"] and r["grad_addmm"] and r["grad_einsum"]


def test_routed_products_never_reach_mkl() -> None:
    """A training step's forward and backward products leave MKL's log empty of GEMMs."""
    import torch

    if "mkl" not in torch.__config__.show().lower():
        pytest.skip("this torch does not use MKL")
    step = (
        "import torch; from symbiote_core.runtime import route_gemm_to_openblas; "
        "route_gemm_to_openblas(); m = torch.nn.Sequential(torch.nn.Linear(64, 128), "
        "torch.nn.ReLU(), torch.nn.Linear(128, 8)); "
        "x = torch.randn(3, 32, 64); (m(x) @ torch.randn(8, 8)).square().sum().backward(); "
        "torch.bmm(x, x.transpose(1, 2)); torch.einsum('bij,bkj->bik', x, x); "
        "print('done')"
    )
    result = subprocess.run(
        [sys.executable, "-c", step],
        env={**os.environ, "MKL_VERBOSE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "done"
    assert not [line for line in result.stdout.splitlines() if "GEMM" in line], result.stdout
