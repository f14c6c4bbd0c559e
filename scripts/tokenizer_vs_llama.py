#!/usr/bin/env python3
"""Differential check of `rocmforge tokenize` against llama.cpp (through
llama-cpp-python, which CI does not install): random strings (words, white
space of all kinds, scripts, emoji, special-token text, malformed UTF-8),
every add_special/parse_special combination, ids and decoded text.

    python3 scripts/tokenizer_vs_llama.py [--n 500] [--seed 1] [--pre NAME ...] FILE.gguf ...

--pre writes a copy of each file with tokenizer.ggml.pre replaced by NAME
(to exercise a pre-tokenizer with a vocabulary that has no such model).
Exit status 1 when anything differs."""
import argparse
import ctypes
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXE = os.path.join(os.environ.get("RF_BUILD_DIR", os.path.join(ROOT, "build")), "rocmforge")

WS = [" ", "  ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", "\u00a0", "\u3000", "\u2028", "\u0085", "\u2009",
      "   \n  ", "\n\n\n", " \t "]
WORDS = ["Hello", "world", "the", "The", "THE", "don't", "it's", "I'M", "we'LL", "they're", "you've", "he'd", "a",
         "naïve", "café", "Straße", "ǅemal", "İstanbul", "ﬁne", "Ωmega", "ΐ", "ὐ", "ᾼ", "日本語", "中文字符",
         "한국어", "ภาษาไทย", "हिन्दी", "العربية", "עברית", "Русский", "Ελληνικά", "🦙", "🫠", "👨‍👩‍👧", "🇺🇸",
         "∑", "€", "½", "²", "٣", "Ⅻ", "१२३", "e\u0301", "a\u20dd", "\u200b", "\ufeff", "\ue000", "func()",
         "{x:1}", "x=y+z", "<div>", "</s>", "<s>", "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>",
         "<|user|>", "[CLS]", "[SEP]", "[MASK]", "12", "123", "1234", "12345678901", "3.14159", "$100", "...",
         "'", "\"", "`", "~", "^", "|", "\\", "__init__", "CamelCase", "ALLCAPS"]
BAD = [b"\xff", b"\xc0\x80", b"\xe2\x82", b"\x80", b"\xed\xa0\x80", b"\xf0\x9f", b"\x00", b"\xfe\xfe", b"\xc3"]


def rand_cp(rng):
    r = rng.random()
    lo, hi = ((0x20, 0x7E) if r < 0.3 else (0xA0, 0x2FFF) if r < 0.5 else (0x3000, 0xD7FF) if r < 0.65
              else (0xE000, 0xFFFF) if r < 0.75 else (0x10000, 0x10FFFF) if r < 0.85 else (0, 0x1F))
    return chr(rng.randint(lo, hi))


def gen_str(rng):
    parts = []
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        if r < 0.45:
            parts.append(rng.choice(WORDS))
        elif r < 0.7:
            parts.append(rng.choice(WS))
        elif r < 0.9:
            parts.append("".join(rand_cp(rng) for _ in range(rng.randint(1, 4))))
        else:
            parts.append(rng.choice(WORDS) + rng.choice(WORDS))
    b = "".join(parts).encode("utf-8", "surrogatepass")
    if rng.random() < 0.15:
        k = rng.randint(0, len(b))
        b = b[:k] + rng.choice(BAD) + b[k:]
    return b


def relabel(src, dst, pre):
    import gguf
    r = gguf.GGUFReader(src)
    w = gguf.GGUFWriter(dst, r.fields["general.architecture"].contents())
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k in ("general.architecture", "tokenizer.ggml.pre"):
            continue
        if f.types[0] == gguf.GGUFValueType.ARRAY:
            w.add_key_value(k, f.contents(), f.types[0], sub_type=f.types[1])
        else:
            w.add_key_value(k, f.contents(), f.types[0])
    w.add_key_value("tokenizer.ggml.pre", pre, gguf.GGUFValueType.STRING)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pre", action="append", default=[])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    import llama_cpp
    keep = llama_cpp.llama_log_callback(lambda level, text, user: None)
    llama_cpp.llama_log_set(keep, None)

    def tok(v, b, add, parse):
        n = len(b) + 16
        arr = (llama_cpp.llama_token * n)()
        r = llama_cpp.llama_tokenize(v, b, len(b), arr, n, add, parse)
        return list(arr[:r])

    def detok(v, ids):
        buf = ctypes.create_string_buffer(64 + 32 * len(ids))
        arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
        r = llama_cpp.llama_detokenize(v, arr, len(ids), buf, len(buf), False, True)
        return buf.raw[:r]

    bad_total = 0
    with tempfile.TemporaryDirectory() as tmp:
        files = list(a.files)
        for pre in a.pre:
            for f in a.files:
                dst = os.path.join(tmp, f"{os.path.basename(f)}.{pre}.gguf")
                relabel(f, dst, pre)
                files.append(dst)
        for path in files:
            p = llama_cpp.llama_model_default_params()
            p.vocab_only = True
            m = llama_cpp.llama_model_load_from_file(path.encode(), p)
            if not m:
                print(f"{path}: llama.cpp cannot load it")
                continue
            v = llama_cpp.llama_model_get_vocab(m)
            rng = random.Random(a.seed)
            reqs = [{"hex": gen_str(rng).hex(), "add_special": ad, "parse_special": ps}
                    for _ in range(a.n) for ad in (False, True) for ps in (False, True)]
            r = subprocess.run([EXE, "tokenize", "-m", path, "--batch"],
                               input="".join(json.dumps(q) + "\n" for q in reqs).encode(), capture_output=True)
            res = [json.loads(line) for line in r.stdout.decode().splitlines()]
            bad = 0
            for q, rr in zip(reqs, res):
                b = bytes.fromhex(q["hex"])
                want = tok(v, b, q["add_special"], q["parse_special"])
                if rr.get("ids") != want or bytes.fromhex(rr.get("decoded_hex", "")) != detok(v, want):
                    bad += 1
                    if bad <= 5:
                        print(f"  {b!r} {q['add_special']} {q['parse_special']}: {rr} != {want}")
            bad += abs(len(res) - len(reqs))
            print(f"{os.path.basename(path)}: {bad} of {len(reqs)} differ")
            bad_total += bad
            llama_cpp.llama_model_free(m)
    sys.exit(1 if bad_total else 0)


if __name__ == "__main__":
    main()
