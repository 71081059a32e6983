"""exp(x) in float64 for the compiled kernels, within one ulp of the C library's, in a form the
compiler turns into vector instructions when it runs along an axis: numba calls the C library's
exp one value at a time (pip's llvmlite has no vector maths library), 7-10 ns a value; this one
takes 2-3 ns (measured on 2 cores with AVX-512, 26 million values). Not inlined by numba (LLVM
inlines it anyway): inlined, it added 5 s to compiling the kernel on an empty cache, for nothing
measurable. The method is the usual one:
x = k ln 2 + r with |r| <= ln 2 / 2, exp(r) by its Taylor series (the first term left out is below
1e-17 of it), times 2^k made from its bits.
numba's cache keeps a kernel compiled until the kernel's own file changes, not this one's: a
change here reaches plane_kernels.py's cached kernels only once that file changes too or its
cache (`__pycache__/*.nbi`, `*.nbc`, or $NUMBA_CACHE_DIR) is removed."""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

# ln 2 in two parts, the first with its low bits zero so that k * LN2_HIGH is exact (fdlibm's)
LN2_HIGH, LN2_LOW = 6.93147180369123816490e-01, 1.90821492927058770002e-10
INVERSE_LN2 = 1.44269504088896338700e00
# below this exp(x) is under 3.3e-308, where 2^k would need a subnormal's bits: given as 0. The
# kernels take exps of logits minus their largest, so such a term is nothing beside the sum's 1
LOWEST = -708.0
HIGHEST = 709.0  # exp(709.79) overflows


@intrinsic
def _as_float(typingctx, bits):
    """The float64 whose bits are the int64 `bits`."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@numba.njit(cache=True)
def fast_exp(x: float) -> float:
    """exp(x) within one ulp for x in [LOWEST, HIGHEST]; 0 below, inf above, NaN for NaN."""
    y = min(max(x, LOWEST), HIGHEST)  # in range, the branches below become selects of one path
    k = np.floor(y * INVERSE_LN2 + 0.5)
    r = (y - k * LN2_HIGH) - k * LN2_LOW
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (
            1 / 39916800 + r * (1 / 479001600 + r * (1 / 6227020800))))))))))))
    )  # fmt: skip
    value = p * _as_float((np.int64(k) + 1023) << 52)
    if LOWEST <= x <= HIGHEST:
        return value
    if x < LOWEST:
        return 0.0
    return np.inf if x > HIGHEST else x
