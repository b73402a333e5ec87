"""Reproducible CPU runs: one thread, deterministic kernels, explicit seeds, and matrix
products that give the same bytes on any vendor's x86-64 CPU.

Why one thread: on a 2-core machine with other processes busy, a 2-thread torch
step ran 20-30x slower than a 1-thread one, and changing the thread count changes
float32 results. Parallelism comes from separate processes instead.
"""

from __future__ import annotations

import random
import sys
import warnings
from typing import Any

import numpy as np
import torch


def make_deterministic(seed: int, threads: int = 1) -> torch.Generator:
    """Seed every RNG, pin the thread count, and turn on deterministic kernels.

    Returns a `torch.Generator` seeded with `seed`, for code that wants its own stream.
    """
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _deterministic_kernels()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _deterministic_kernels() -> None:
    """`torch.use_deterministic_algorithms(True)`, without its 1.4 s import.

    The public call also sets `torch._inductor.config.deterministic`, and importing that
    config pulls in sympy and ~800 modules: 1.4 s in every figure worker process. Nothing
    here uses torch.compile (it broke bit-reproducibility), so unless inductor is already
    loaded only the kernel flag is set. Pitfall: code that starts using torch.compile
    after this call should call `torch.use_deterministic_algorithms(True)` itself.
    """
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True)
    else:
        setter(True, warn_only=False)


_GEMM_OVERRIDES: torch.library.Library | None = None
"""Kept alive while the override holds: dropping a `Library` removes its kernels."""


def route_gemm_to_openblas() -> None:
    """Compute torch's CPU matrix products (`mm`, `bmm`, `addmm`, `baddbmm`, with their
    `out=` and in-place forms) with numpy's OpenBLAS instead of torch's MKL. Idempotent;
    for the rest of the process.

    Why: the same bytes on Intel and AMD CPUs at AVX2 speed. MKL keeps its results
    identical across vendors only in its COMPATIBLE (SSE2) branch, which ran the language
    host's training 1.9x slower than this; its AVX2 branch it honours on Intel CPUs only.
    OpenBLAS runs the kernels `OPENBLAS_CORETYPE` names on any CPU that has their
    instructions, and for its Haswell kernels it blocks the summed dimension by a constant
    (its cache-size reading sizes only blocks that do not order a sum): with
    `OPENBLAS_CORETYPE=Haswell` and one thread, a product is a function of its inputs.

    The override sits below autograd (at torch's CPU dispatch key), so backward passes,
    which are `mm` and `bmm` too, take the same route. Every other MKL call (LAPACK,
    matrix-vector products) is left to MKL. Half-precision inputs are multiplied in
    float32 and rounded back.
    """
    global _GEMM_OVERRIDES
    if _GEMM_OVERRIDES is not None:
        return
    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():
        # torch warns once that it is overriding a kernel: that is the point.
        warnings.simplefilter("ignore", UserWarning)
        for op, dims in (("mm", 2), ("bmm", 3)):
            library.impl(op, _product(op, dims), "CPU")
            library.impl(f"{op}.out", _out(_product(op, dims)), "CPU")
        for op, dims in (("addmm", 2), ("baddbmm", 3)):
            library.impl(op, _accumulate(op, dims), "CPU")
            library.impl(f"{op}.out", _out(_accumulate(op, dims)), "CPU")
            library.impl(f"{op}_", _in_place(_accumulate(op, dims)), "CPU")
    _GEMM_OVERRIDES = library


def _as_blas_array(t: torch.Tensor) -> np.ndarray:
    """`t` as a numpy array BLAS can read in place (numpy multiplies any other strides
    with its own slow loop), half precision as float32."""
    t = t.detach().resolve_conj().resolve_neg()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    rows, cols = t.stride()[-2:]
    m, n = t.shape[-2:]
    if not ((cols == 1 and rows >= max(1, n)) or (rows == 1 and cols >= max(1, m))):
        t = t.contiguous()
    return t.numpy()


def _product(op: str, dims: int) -> Any:
    def product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.dim() != dims or b.dim() != dims:
            raise RuntimeError(f"{op}: expected {dims}-D tensors, got {a.dim()}-D and {b.dim()}-D")
        if a.dtype != b.dtype:
            raise RuntimeError(
                f"{op}: expected both tensors of one dtype, got {a.dtype} and {b.dtype}"
            )
        if a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2]:
            raise RuntimeError(
                f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied"
            )
        out = torch.from_numpy(np.matmul(_as_blas_array(a), _as_blas_array(b)))
        return out.to(a.dtype)

    return product


def _accumulate(op: str, dims: int) -> Any:
    product = _product(op, dims)

    def accumulate(
        c: torch.Tensor, a: torch.Tensor, b: torch.Tensor, *, beta: Any = 1, alpha: Any = 1
    ) -> torch.Tensor:
        out = product(a, b)
        if alpha != 1:
            out.mul_(alpha)
        if beta != 0:  # torch ignores `c` (NaNs included) when beta is 0
            out.add_(c, alpha=beta)
        return out

    return accumulate


def _out(compute: Any) -> Any:
    def into(*args: Any, out: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        result = compute(*args, **kwargs)
        return out.resize_(result.shape).copy_(result)

    return into


def _in_place(compute: Any) -> Any:
    def in_place(c: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return c.copy_(compute(c, *args, **kwargs))

    return in_place
