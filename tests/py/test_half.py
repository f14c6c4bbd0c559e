"""f16 and bf16 conversions (rf__fp16_to_fp32 and friends, through the F16/BF16
types) against numpy and gguf, bit for bit.

- every one of the 65536 f16 and bf16 bit patterns to f32 (NaNs included:
  numpy keeps the payload and does not quiet it, and so do we);
- f32 to f16 against numpy's astype(float16) and f32 to bf16 against gguf's
  BF16 quantizer (= ggml's ggml_compute_fp32_to_bf16) on: every f16 value,
  every midpoint between neighbouring f16 values (rounding ties) and the
  floats just either side of it, the same for bf16, the subnormal and overflow
  boundaries, and a few million random bit patterns (NaN, inf, subnormal floats).
"""
import os
import sys
import tempfile

import rftest

np = rftest.need("numpy")
gguf = rftest.need("gguf")
from gguf.constants import GGMLQuantizationType as T  # noqa: E402


def run_tool(tool, tmp, args, data):
    src = os.path.join(tmp, "in.bin")
    dst = os.path.join(tmp, "out.bin")
    data.tofile(src)
    rftest.run([tool] + args + [src, dst])
    return np.fromfile(dst, dtype=np.uint8)


def f32_inputs(rng):
    """f32 bit patterns that probe f16 and bf16 rounding."""
    parts = []
    h = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    hf = h.view(np.float16).astype(np.float32)
    finite = hf[np.isfinite(hf)]
    parts.append(finite.view(np.uint32))
    # midpoints between neighbouring f16 values of the same sign (exact in f32)
    pos = np.sort(finite[finite >= 0].astype(np.float64))
    mids = ((pos[:-1] + pos[1:]) / 2).astype(np.float32)
    mids = np.concatenate([mids, -mids, np.float32([65520.0, -65520.0])])
    mb = mids.view(np.uint32)
    parts += [mb, mb + 1, mb - 1]
    # bf16 ties: low half exactly 0x8000, and one either side
    hi = rng.integers(0, 65536, size=200000, dtype=np.uint32) << 16
    parts += [hi | 0x8000, hi | 0x7FFF, hi | 0x8001, hi]
    # f16 subnormal range and around 2^-25 (half the smallest subnormal)
    parts.append(rng.uniform(-2.0**-14, 2.0**-14, size=200000).astype(np.float32).view(np.uint32))
    parts.append(np.float32([2.0**-25, -(2.0**-25), 2.0**-24, 3 * 2.0**-26, 2.0**-14]).view(np.uint32))
    # overflow boundary
    parts.append(rng.uniform(65000, 66000, size=20000).astype(np.float32).view(np.uint32))
    # random bit patterns: NaNs (signalling and quiet), infs, subnormals, everything
    parts.append(rng.integers(0, 2**32, size=3_000_000, dtype=np.uint64).astype(np.uint32))
    parts.append(np.uint32([0x7F800000, 0xFF800000, 0x7F800001, 0x7FC00000, 0xFFFFFFFF, 0x7F802000, 0, 0x80000000]))
    return np.concatenate(parts).astype(np.uint32)


def compare(name, got, want):
    bad = np.flatnonzero(got != want)
    if bad.size:
        i = bad[0]
        print(f"{name}: FAIL {bad.size}/{want.size} differ; first at {i}: got {got[i]:#x} want {want[i]:#x}")
        return 1
    print(f"{name}: ok, {want.size} values bit-exact")
    return 0


def main():
    tool = rftest.tool("rf_quant_tool")
    rng = np.random.default_rng(20240611)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        every = np.arange(65536, dtype=np.uint32).astype(np.uint16)

        got = run_tool(tool, tmp, ["dequant", "F16"], every).view(np.uint32)
        want = every.view(np.float16).astype(np.float32).view(np.uint32)
        failures += compare("f16 -> f32, all 65536", got, want)

        got = run_tool(tool, tmp, ["dequant", "BF16"], every).view(np.uint32)
        want = every.astype(np.uint32) << 16
        failures += compare("bf16 -> f32, all 65536", got, want)

        x = f32_inputs(rng)
        n = str(x.size)
        got = run_tool(tool, tmp, ["quantize", "F16", n], x).view(np.uint16)
        with np.errstate(all="ignore"):
            want = x.view(np.float32).astype(np.float16).view(np.uint16)
        failures += compare("f32 -> f16", got, want)

        got = run_tool(tool, tmp, ["quantize", "BF16", n], x).view(np.uint16)
        want = gguf.quants.quantize(x.view(np.float32), T.BF16).view(np.uint16)
        failures += compare("f32 -> bf16", got, want)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
