#!/usr/bin/env python3
"""Generates src/quant/iq_grids.h and iq_grids.c: the lattice grids and sign
tables of the i-quants (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S).

The source of truth is the `gguf` package (gguf-py from llama.cpp), whose
quants.py carries every grid in packed form; it is decoded here with gguf's own
`init_grid` and written out in ggml's in-memory layout (ggml-common.h), so the
C tables are the same numbers ggml's kernels use (here prefixed rf__):

  iq2xxs_grid[256], iq2xs_grid[512], iq2s_grid[1024]: uint64, byte j (LSB
      first) is element j of 8, one of 0x08, 0x19, 0x2b;
  iq3xxs_grid[256]: uint32, byte j is element j of 4, one of 0x04..0x3e;
  iq3s_grid[512]:   uint32, byte j is element j of 4, one of 0x01..0x0f (odd);
  iq1s_grid[2048]:  uint64, byte j is element j of 8 as int8: -1, 0 or +1;
  iq1s_grid_gpu[2048]: uint32, element j + 1 (0..2) in the nibble at bit
      8*j for j < 4 and 8*(j-4)+4 for j >= 4 (ggml's GPU form of iq1s_grid);
  ksigns_iq2xs[128]: 7 sign bits plus an 8th making the count of set bits even;
  ksigns64[128]: ksigns_iq2xs expanded, byte j 0xff where bit j is set;
  kmask_iq2xs[8]: 1 << j.

Usage: gen_iq_grids.py            rewrite the two files next to this script
       gen_iq_grids.py --check    exit 1 if the committed files differ
"""
import argparse
import os
import sys

GGUF_VERSION = "0.19.0"

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_H = os.path.join(HERE, "iq_grids.h")
OUT_C = os.path.join(HERE, "iq_grids.c")


def load_gguf():
    try:
        import importlib.metadata as md

        import numpy as np
        from gguf import quants
    except ImportError as e:
        sys.exit(f"gen_iq_grids.py: needs gguf=={GGUF_VERSION} and numpy ({e})")
    ver = md.version("gguf")
    if ver != GGUF_VERSION:
        sys.exit(f"gen_iq_grids.py: gguf {ver} installed, the tables are generated from {GGUF_VERSION}")
    return np, quants


def grid_rows(np, cls):
    """The decoded grid of a gguf quant class as a list of rows of ints."""
    cls.init_grid()
    g = np.asarray(cls.grid).reshape(cls.grid_shape)
    if not np.all(g == np.round(g)):
        sys.exit(f"{cls.__name__}: grid values are not integers")
    return [[int(v) for v in row] for row in g.astype(np.int64)]


def pack_bytes(row):
    """Element j -> byte j (two's complement), least significant byte first."""
    v = 0
    for j, e in enumerate(row):
        if not -128 <= e <= 255:
            sys.exit(f"grid element {e} does not fit a byte")
        v |= (e & 0xFF) << (8 * j)
    return v


def pack_iq1s_gpu(row):
    v = 0
    for j, e in enumerate(row):
        shift = 8 * j if j < 4 else 8 * (j - 4) + 4
        v |= (e + 1) << shift
    return v


def fmt_table(ctype, name, values, per_line, width):
    lines = []
    for i in range(0, len(values), per_line):
        chunk = values[i:i + per_line]
        if width:
            lines.append("    " + ", ".join(f"0x{v:0{width}x}" for v in chunk) + ",")
        else:
            lines.append("    " + ", ".join(f"{v:3d}" for v in chunk) + ",")
    return f"const {ctype} {name}[{len(values)}] = {{\n" + "\n".join(lines) + "\n};\n"


def build(np, quants):
    tables = []  # (ctype, name, values, per_line, hex width, doc)

    def grid(cls, name, ctype, n, width, doc):
        rows = grid_rows(np, cls)
        if len(rows) != n:
            sys.exit(f"{name}: {len(rows)} entries, expected {n}")
        vals = [pack_bytes(r) for r in rows]
        tables.append((ctype, name, vals, 4 if width == 16 else 8, width, doc))
        return rows

    grid(quants.IQ2_XXS, "rf__iq2xxs_grid", "uint64_t", 256, 16, "IQ2_XXS: 8 x {0x08,0x19,0x2b}")
    grid(quants.IQ2_XS, "rf__iq2xs_grid", "uint64_t", 512, 16, "IQ2_XS: 8 x {0x08,0x19,0x2b}")
    grid(quants.IQ2_S, "rf__iq2s_grid", "uint64_t", 1024, 16, "IQ2_S: 8 x {0x08,0x19,0x2b}")
    grid(quants.IQ3_XXS, "rf__iq3xxs_grid", "uint32_t", 256, 8, "IQ3_XXS: 4 x {0x04..0x3e}")
    grid(quants.IQ3_S, "rf__iq3s_grid", "uint32_t", 512, 8, "IQ3_S: 4 x {0x01..0x0f}")
    iq1 = grid(quants.IQ1_S, "rf__iq1s_grid", "uint64_t", 2048, 16, "IQ1_S and IQ1_M: 8 x int8 {-1,0,1}")
    if grid_rows(np, quants.IQ1_M) != iq1:
        sys.exit("IQ1_M grid differs from IQ1_S grid")
    tables.append(("uint32_t", "rf__iq1s_grid_gpu", [pack_iq1s_gpu(r) for r in iq1], 8, 8,
                   "iq1s_grid with element+1 in nibbles (GPU form)"))

    ksigns = list(quants.IQ2_XXS.ksigns)
    if len(ksigns) != 128:
        sys.exit("ksigns: expected 128 entries")
    tables.append(("uint8_t", "rf__ksigns_iq2xs", ksigns, 16, 0, "sign bytes"))
    ks64 = [sum(0xFF << (8 * j) for j in range(8) if s >> j & 1) for s in ksigns]
    tables.append(("uint64_t", "rf__ksigns64", ks64, 4, 16, "ksigns_iq2xs as byte masks"))
    tables.append(("uint8_t", "rf__kmask_iq2xs", [1 << j for j in range(8)], 8, 0, "1 << j"))

    d1s = np.float32(quants.IQ1_S.delta)
    d1m = np.float32(quants.IQ1_M.delta)
    return tables, d1s, d1m


HEADER_DOC = __doc__.split("Usage:")[0].strip().splitlines()


def render(tables, d1s, d1m):
    ngrid_iq1s = next(len(v) for _, name, v, _, _, _ in tables if name == "rf__iq1s_grid")
    banner = f"/* Generated by src/quant/gen_iq_grids.py from gguf {GGUF_VERSION}; do not edit. */\n"
    doc = "\n".join((" * " + l).rstrip() for l in HEADER_DOC[3:])
    h = [banner,
         "/*\n * iq_grids.h - format constants of the i-quants: lattice grids, sign\n"
         " * tables and the IQ1 shift.\n *\n" + doc + "\n *\n"
         " * Every index a block can hold is in range by construction (an n-bit\n"
         " * index into a table of 2^n entries), so readers need no bounds check.\n */\n",
         "#ifndef RF_QUANT_IQ_GRIDS_H\n#define RF_QUANT_IQ_GRIDS_H\n\n#include <stdint.h>\n\n",
         "/* IQ1_S / IQ1_M: each group of 8 is grid + delta, delta negated when the\n"
         " * group's sign bit is set. */\n",
         f"#define RF_IQ1S_DELTA {float(d1s)!r}f\n",
         f"#define RF_IQ1M_DELTA {float(d1m)!r}f\n",
         f"#define RF_NGRID_IQ1S {ngrid_iq1s}\n\n"]
    for ctype, name, vals, _, _, doc_ in tables:
        h.append(f"extern const {ctype} {name}[{len(vals)}]; /* {doc_} */\n")
    h.append("\n#endif /* RF_QUANT_IQ_GRIDS_H */\n")
    c = [banner, "#include \"quant/iq_grids.h\"\n"]
    for ctype, name, vals, per_line, width, _ in tables:
        c.append("\n" + fmt_table(ctype, name, vals, per_line, width))
    return "".join(h), "".join(c)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="compare with the committed files")
    a = ap.parse_args()
    np, quants = load_gguf()
    h, c = render(*build(np, quants))
    if a.check:
        bad = []
        for path, text in ((OUT_H, h), (OUT_C, c)):
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        bad.append(path)
            except OSError:
                bad.append(path)
        if bad:
            print("out of date: " + ", ".join(bad) + " (run src/quant/gen_iq_grids.py)", file=sys.stderr)
            sys.exit(1)
        print("iq grids up to date")
        return
    for path, text in ((OUT_H, h), (OUT_C, c)):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"wrote {OUT_H} and {OUT_C}")


if __name__ == "__main__":
    main()
