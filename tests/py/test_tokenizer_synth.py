"""The synthetic vocabularies of tests/tok_synth.h (SPM, SPM as Phi-3, WordPiece,
Unigram with and without a precompiled_charsmap, byte-level BPE) written out
as GGUF by the rf_tok_synth tool, against the ids and decoded text llama.cpp
gives with the same files (fixture tests/fixtures/tokenizer_synth.json, made
by tests/fixtures/make_tokenizer_fixtures.py). No T5/Unigram vocabulary is in
the test data; this is the Unigram comparison with llama.cpp."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import rftest

MODES = {"plain": (False, False), "special": (True, False), "parse": (False, True), "special_parse": (True, True)}


def main():
    exe = rftest.tool("rocmforge")
    gen = rftest.tool("rf_tok_synth")
    with open(os.path.join(rftest.SOURCE_DIR, "tests", "fixtures", "tokenizer_synth.json")) as f:
        fx = json.load(f)["files"]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = subprocess.run([gen, tmp], check=True, capture_output=True).stdout.decode().split()
        if sorted(os.path.basename(p) for p in paths) != sorted(fx):
            rftest.fail(f"rf_tok_synth wrote {paths}, the fixture has {sorted(fx)}")
        for path in paths:
            name = os.path.basename(path)
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            if digest != fx[name]["sha256"]:
                rftest.fail(f"{name} differs from the fixture's: tests/tok_synth.h changed, "
                            "rerun tests/fixtures/make_tokenizer_fixtures.py")
            cases = fx[name]["cases"]
            reqs = [{"hex": c["hex"], "add_special": a, "parse_special": p} for c in cases for a, p in MODES.values()]
            data = "".join(json.dumps(r) + "\n" for r in reqs).encode()
            p = subprocess.run([exe, "tokenize", "-m", path, "--batch"], input=data, capture_output=True)
            if p.returncode != 0:
                rftest.fail(f"{name}: {p.stderr.decode(errors='replace')}")
            res = [json.loads(line) for line in p.stdout.decode().splitlines()]
            if len(res) != len(reqs):
                rftest.fail(f"{name}: {len(res)} answers for {len(reqs)} requests")
            ok = ok_dec = total = 0
            k = 0
            for c in cases:
                for mode in MODES:
                    total += 1
                    if res[k].get("ids") == c["ids"][mode]:
                        ok += 1
                    else:
                        print(f"  {name} {bytes.fromhex(c['hex'])!r} [{mode}]: got {res[k].get('ids')}, "
                              f"want {c['ids'][mode]}", file=sys.stderr)
                    if mode == "plain":
                        if res[k].get("decoded_hex") == c["decoded_hex"]:
                            ok_dec += 1
                        else:
                            print(f"  {name} {bytes.fromhex(c['hex'])!r}: decoded {res[k].get('decoded_hex')}, "
                                  f"want {c['decoded_hex']}", file=sys.stderr)
                    k += 1
            print(f"{name}: ids {ok}/{total}, decode {ok_dec}/{len(cases)}")
            bad += (total - ok) + (len(cases) - ok_dec)
    if bad:
        rftest.fail(f"{bad} mismatches with llama.cpp")


if __name__ == "__main__":
    main()
