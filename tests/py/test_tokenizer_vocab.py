"""llama.cpp's tokenizer test vectors (RF_TESTDATA/vocab/*.gguf with .inp/.out):
every case must give exactly the ids llama.cpp gives (no BOS, no special
parsing, as its test-tokenizer-0 does). Also: decoding gives the input back
where the model is lossless (SPM, byte-level BPE; with the clean-up of
" ," etc. where the model asks for it), and, against a fixture made by
tests/fixtures/make_tokenizer_fixtures.py with llama.cpp, the ids with
add_special + parse_special and the decoded text. All strings go through one
process (rocmforge tokenize --batch) per vocabulary."""
import glob
import hashlib
import json
import os
import subprocess
import sys

import rftest


def clean_spaces(b):
    """llama.cpp's clean_up_tokenization_spaces (three passes over bytes)."""
    t = bytearray(b)

    def pass1(t):
        out = bytearray(t[:1])
        for i in range(1, len(t)):
            if t[i - 1] == 0x20 and t[i] in b"?!.,":
                out.pop()
            out.append(t[i])
        return out

    def pass2(t):
        out = bytearray(t[:1])
        i = 1
        while i < len(t):
            x = t[i]
            if x == 0x27 and i + 1 < len(t) and t[i - 1] == 0x20 and t[i + 1] == 0x20:
                out.pop()
                out.append(x)
                i += 2
                continue
            out.append(x)
            i += 1
        return out

    def pass3(t):
        out = bytearray(t[:1])
        for i in range(1, len(t)):
            x = t[i]
            if t[i - 1] == 0x20 and x == 0x27 and i + 1 < len(t):
                x1 = t[i + 1]
                if x1 in b"sm":
                    out.pop()
                elif i + 2 < len(t) and (t[i + 1:i + 3] in (b"re", b"ve")):
                    out.pop()
            out.append(x)
        return out

    return bytes(pass3(pass2(pass1(t))))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def batch(exe, model, reqs):
    data = "".join(json.dumps(r) + "\n" for r in reqs).encode()
    p = subprocess.run([exe, "tokenize", "-m", model, "--batch"], input=data, capture_output=True)
    if p.returncode != 0:
        rftest.fail(f"rocmforge tokenize --batch failed on {model}: {p.stderr.decode(errors='replace')}")
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    if len(out) != len(reqs):
        rftest.fail(f"{model}: {len(out)} answers for {len(reqs)} requests")
    return out


def main():
    exe = rftest.tool("rocmforge")
    vdir = os.path.join(rftest.TESTDATA, "vocab")
    files = sorted(glob.glob(os.path.join(vdir, "*.gguf")))
    if not files:
        rftest.fail(f"no vocabulary files in {vdir} (set RF_TESTDATA)")
    with open(os.path.join(rftest.SOURCE_DIR, "tests", "fixtures", "tokenizer_vocab.json")) as f:
        fixture = json.load(f)["files"]
    failures = 0
    for path in files:
        name = os.path.basename(path)
        with open(path + ".inp", "rb") as f:
            inp = f.read().decode("utf-8").split("\n__ggml_vocab_test__\n")
        with open(path + ".out") as f:
            out_lines = f.read().split("\n")
        if len(out_lines) < len(inp):
            rftest.fail(f"{name}: {len(inp)} inputs but {len(out_lines)} output lines")
        expected = [[int(x) for x in out_lines[i].split()] for i in range(len(inp))]
        fx = fixture.get(name)
        if fx is None:
            rftest.fail(f"{name} is not in tests/fixtures/tokenizer_vocab.json: rerun make_tokenizer_fixtures.py")
        if fx["sha256"] != sha256(path):
            rftest.fail(f"{name} differs from the file the fixture was made from")
        reqs = [{"info": True}]
        reqs += [{"text": s} for s in inp]
        reqs += [{"text": s, "add_special": True, "parse_special": True} for s in inp]
        res = batch(exe, path, reqs)
        info, plain, special = res[0], res[1:1 + len(inp)], res[1 + len(inp):]
        lossless = info["kind"] in ("spm", "bpe")
        ok_ids = ok_special = ok_dec = ok_rt = 0
        for i, s in enumerate(inp):
            b = s.encode("utf-8")
            got = plain[i].get("ids")
            if got == expected[i]:
                ok_ids += 1
            else:
                print(f"  {name} case {i} {s!r}: got {got}, want {expected[i]}", file=sys.stderr)
            if special[i].get("ids") == fx["cases"][i]["special_parse"]:
                ok_special += 1
            else:
                print(f"  {name} case {i} {s!r} with specials: got {special[i].get('ids')}, "
                      f"want {fx['cases'][i]['special_parse']}", file=sys.stderr)
            dec = bytes.fromhex(plain[i].get("decoded_hex", ""))
            if dec == bytes.fromhex(fx["cases"][i]["decoded_hex"]):
                ok_dec += 1
            else:
                print(f"  {name} case {i} decode {dec!r} != {fx['cases'][i]['decoded_hex']}", file=sys.stderr)
            if lossless:
                want = clean_spaces(b) if info["clean_spaces"] else b
                if dec == want:
                    ok_rt += 1
                else:
                    print(f"  {name} case {i}: decode(encode(s)) = {dec!r}, want {want!r}", file=sys.stderr)
        n = len(inp)
        rt = f"{ok_rt}/{n}" if lossless else "n/a (lossy normalisation)"
        print(f"{name}: ids {ok_ids}/{n}, with specials {ok_special}/{n}, decode {ok_dec}/{n}, round trip {rt} "
              f"[{info['kind']} {info['pre']}]")
        failures += (n - ok_ids) + (n - ok_special) + (n - ok_dec) + ((n - ok_rt) if lossless else 0)
    if failures:
        rftest.fail(f"{failures} mismatches")
    print("all vocabulary cases agree with llama.cpp")


if __name__ == "__main__":
    main()
