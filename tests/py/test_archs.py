"""Every architecture against llama.cpp on the same random weights.

For each tiny model of arch_models.py (regenerated here, byte-identical to the
one the fixtures were made from - checked by SHA-256), run the engine on
arch_models.TOKENS with logits for every position (tests/tools/rf_arch_logits)
and compare with llama.cpp's logits in tests/fixtures/arch/ (made by
tests/fixtures/make_arch_fixtures.py):

    normalised error ||ours - ref|| / ||ref|| < 1e-3

(2e-5 where llama.cpp computes in f32 throughout, see F16_PATHS)
with an f32 KV cache (the reference's), for the whole sequence in one batch
and, for the sliding-window models, in batches of 5 (the window then spans
several calls). The default f16 KV cache is checked too, against a bound that
allows for its rounding.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import arch_models as am
from rftest import SOURCE_DIR, fail, tool

TOL = 1e-3          # the bound every architecture must meet (f32 weights and KV cache)
TOL_F16_KV = 5e-3   # f16 KV cache in the engine, f32 in the reference
# llama.cpp rounds to f16 on two paths some models take: GELU goes through an
# f16 lookup table (gemma*: about 4e-4 at the logits; emulating the table
# brings it to 5e-5) and the activations of products with f16 weights are
# rounded to f16 (qwen3-f16). Elsewhere its arithmetic is f32 like ours and
# only the summation order differs, so those models must agree much closer.
F16_PATHS = {"gemma", "gemma2", "gemma3", "gemma3-pattern", "qwen3-f16"}
TOL_EXACT = 2e-5

FIX = os.path.join(SOURCE_DIR, "tests", "fixtures", "arch")

# (model, kv cache type, batch size): every model in one batch with the
# reference's f32 cache, plus chunked and f16-cache runs where they add cover
RUNS = [(name, "f32", 0) for name in am.MODELS] + [
    ("gemma2", "f32", 5), ("gemma3", "f32", 5), ("phi3", "f32", 5), ("qwen3moe", "f32", 5),
    ("mixtral", "f32", 7), ("olmo2", "f32", 5), ("granite-moe", "f32", 6), ("gpt-oss", "f32", 5),
    ("mistral3", "f32", 5), ("glm4moe", "f32", 5), ("exaone4", "f32", 5),
    ("qwen2", "f16", 0), ("gemma3", "f16", 0),
]


def main():
    with open(os.path.join(FIX, "manifest.json")) as f:
        man = json.load(f)
    if man["tokens"] != am.TOKENS or man["n_ctx"] != am.N_CTX:
        fail("fixtures were made for other tokens/n_ctx: run tests/fixtures/make_arch_fixtures.py")
    missing = sorted(set(am.MODELS) - set(man["models"]))
    if missing:
        fail(f"no reference logits for {missing}: run tests/fixtures/make_arch_fixtures.py")
    exe = tool("rf_arch_logits")
    bad = []
    print(f"reference: {man['reference']}")
    print(f"{'model':14s} {'arch':9s} {'weights':7s} {'kv':4s} {'batch':>5s} {'nerr':>10s} "
          f"{'max|d|':>9s} {'top1':>6s}  result")
    with tempfile.TemporaryDirectory() as td:
        made = {}
        for name, kv, batch in RUNS:
            info = man["models"][name]
            path = made.get(name)
            if path is None:
                path = os.path.join(td, name + ".gguf")
                am.write_model(name, path)
                with open(path, "rb") as f:
                    sha = hashlib.sha256(f.read()).hexdigest()
                if sha != info["sha256"]:
                    fail(f"{name}: generated model differs from the one the fixtures were made from "
                         f"(gguf/numpy version or arch_models.py changed): rerun make_arch_fixtures.py")
                made[name] = path
            ref = np.load(os.path.join(FIX, info["logits"]))
            out = os.path.join(td, f"{name}-{kv}-{batch}.bin")
            args = [exe, path, str(am.N_CTX), out, "--kv", kv, "--threads", "2"]
            if batch:
                args += ["--batch", str(batch)]
            r = subprocess.run(args + [str(t) for t in am.TOKENS], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name:14s} {info['arch']:9s} engine failed: {r.stderr.strip()}")
                bad.append(name)
                continue
            ours = np.fromfile(out, dtype=np.float32)
            if ours.size != ref.size:
                fail(f"{name}: {ours.size} logits, reference has {ref.size}")
            ours = ours.reshape(ref.shape)
            nerr = float(np.linalg.norm(ours - ref) / np.linalg.norm(ref))
            maxd = float(np.abs(ours - ref).max())
            top1 = float((ours.argmax(1) == ref.argmax(1)).mean())
            tol = TOL_F16_KV if kv == "f16" else TOL if name in F16_PATHS else TOL_EXACT
            ok = np.isfinite(ours).all() and nerr < tol
            wtype = "f16" if am.MODELS[name][2] else "f32"
            print(f"{name:14s} {info['arch']:9s} {wtype:7s} {kv:4s} {batch or len(am.TOKENS):5d} "
                  f"{nerr:10.3e} {maxd:9.2e} {top1:6.2f}  {'ok' if ok else 'FAIL (tol %g)' % tol}")
            if not ok:
                bad.append(f"{name}/{kv}/{batch}")
    if bad:
        fail("architectures disagree with llama.cpp: " + ", ".join(bad))
    print(f"{len(RUNS)} passed, 0 failed")


if __name__ == "__main__":
    main()
