#!/usr/bin/env python3
"""Writes the hand-made hard cases under tests/corpus/gguf/ (replayed by
test_gguf_corpus). Names starting with ok- must open; the others must fail."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gguf")


def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(b)) + b


def hdr(nt, nkv, v=3):
    return b"GGUF" + struct.pack("<IQQ", v, nt, nkv)


def tensor(name, ne, typ, off):
    return s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne) + struct.pack("<IQ", typ, off)


def pad(b, a=32):
    return b + b"\0" * ((-len(b)) % a)


def nest(depth):
    b = struct.pack("<I", 9)
    for _ in range(depth - 1):
        b += struct.pack("<IQ", 9, 1)
    return b + struct.pack("<IQ", 0, 2) + b"\x07\x09"


cases = {
    "ok-nested-16.gguf": hdr(0, 1) + s("k") + nest(16),
    "nested-17.gguf": hdr(0, 1) + s("k") + nest(17),
    "overlap.gguf": pad(hdr(2, 0) + tensor("a", [16], 0, 0) + tensor("b", [16], 0, 32)) + b"\x11" * 96,
    "huge-string-array.gguf": hdr(0, 1) + s("k") + struct.pack("<IIQ", 9, 8, 2**61) + b"\0" * 64,
    "tensor-end-at-eof-minus-1.gguf": pad(hdr(1, 0) + tensor("a", [8], 0, 0)) + b"\x22" * 31,
    "ok-tensor-end-at-eof.gguf": pad(hdr(1, 0) + tensor("a", [8], 0, 0)) + b"\x22" * 32,
    "alignment-u64.gguf": hdr(0, 1) + s("general.alignment") + struct.pack("<IQ", 10, 32),
    "ok-alignment-1.gguf": hdr(1, 1) + s("general.alignment") + struct.pack("<II", 4, 1) +
        tensor("a", [3], 24, 0) + b"\x01\x02\x03",
    "split-no-1.gguf": hdr(0, 2) + s("split.no") + struct.pack("<IH", 2, 1) + s("split.count") + struct.pack("<IH", 2, 2),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in cases.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
