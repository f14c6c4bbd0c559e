"""SmolLM2 (byte-level BPE, pre-tokenizer smollm): the ids llama.cpp gives for
a few hundred varied strings (code, white space runs, emoji, CJK, mixed
scripts, digits, malformed UTF-8, special-token text), with every combination
of add_special and parse_special, and the decoded text. The reference is the
fixture tests/fixtures/tokenizer_smollm2.json, made with llama.cpp by
tests/fixtures/make_tokenizer_fixtures.py. One process answers all strings."""
import hashlib
import json
import os
import subprocess
import sys

import rftest

MODES = {"plain": (False, False), "special": (True, False), "parse": (False, True), "special_parse": (True, True)}


def main():
    exe = rftest.tool("rocmforge")
    model = rftest.test_model()
    with open(os.path.join(rftest.SOURCE_DIR, "tests", "fixtures", "tokenizer_smollm2.json")) as f:
        fx = json.load(f)
    h = hashlib.sha256()
    with open(model, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != fx["model"]["sha256"]:
        rftest.fail(f"{model} is not the model the fixture was made from ({fx['model']['file']})")
    reqs = []
    for c in fx["cases"]:
        for mode, (a, p) in MODES.items():
            reqs.append({"hex": c["hex"], "add_special": a, "parse_special": p})
    data = "".join(json.dumps(r) + "\n" for r in reqs).encode()
    p = subprocess.run([exe, "tokenize", "-m", model, "--batch"], input=data, capture_output=True)
    if p.returncode != 0:
        rftest.fail(f"rocmforge tokenize --batch failed: {p.stderr.decode(errors='replace')}")
    res = [json.loads(line) for line in p.stdout.decode().splitlines()]
    if len(res) != len(reqs):
        rftest.fail(f"{len(res)} answers for {len(reqs)} requests")
    ok = {m: 0 for m in MODES}
    ok_dec = 0
    k = 0
    for c in fx["cases"]:
        for mode in MODES:
            got = res[k].get("ids")
            if got == c["ids"][mode]:
                ok[mode] += 1
            else:
                print(f"  {bytes.fromhex(c['hex'])!r} [{mode}]: got {got}, want {c['ids'][mode]}", file=sys.stderr)
            if mode == "plain":
                if res[k].get("decoded_hex") == c["decoded_hex"]:
                    ok_dec += 1
                else:
                    print(f"  {bytes.fromhex(c['hex'])!r}: decoded {res[k].get('decoded_hex')}, "
                          f"want {c['decoded_hex']}", file=sys.stderr)
            k += 1
    n = len(fx["cases"])
    print(f"SmolLM2 ({fx['versions']['llama_cpp_python']} reference): " +
          ", ".join(f"{m} {ok[m]}/{n}" for m in MODES) + f", decode {ok_dec}/{n}")
    bad = sum(n - v for v in ok.values()) + (n - ok_dec)
    if bad:
        rftest.fail(f"{bad} mismatches with llama.cpp")


if __name__ == "__main__":
    main()
