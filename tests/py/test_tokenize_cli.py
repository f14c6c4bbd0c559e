"""rocmforge tokenize: the text argument, -f, --stdin, --no-bos, --pieces,
--parse-special, --batch, and the errors for bad arguments and files."""
import json
import os
import subprocess
import tempfile

import rftest


def run(args, stdin=None, ok=True):
    p = subprocess.run([rftest.tool("rocmforge"), "tokenize"] + args, input=stdin, capture_output=True)
    if ok and p.returncode != 0:
        rftest.fail(f"tokenize {args} failed: {p.stderr.decode(errors='replace')}")
    if not ok and p.returncode == 0:
        rftest.fail(f"tokenize {args} should have failed")
    return p


def main():
    spm = os.path.join(rftest.TESTDATA, "vocab", "ggml-vocab-llama-spm.gguf")
    if not os.path.exists(spm):
        rftest.fail(f"{spm} is missing (set RF_TESTDATA)")
    smol = rftest.test_model()
    # "Hello world" is one of llama.cpp's vocabulary test cases: 15043 3186
    out = run(["-m", spm, "Hello world"]).stdout.decode()
    if out != "[1, 15043, 3186]\n":
        rftest.fail(f"ids: {out!r}")
    out = run(["-m", spm, "--no-bos", "Hello world"]).stdout.decode()
    if out != "[15043, 3186]\n":
        rftest.fail(f"--no-bos: {out!r}")
    out = run(["-m", spm, "--stdin"], stdin=b"Hello world").stdout.decode()
    if out != "[1, 15043, 3186]\n":
        rftest.fail(f"--stdin: {out!r}")
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        f.write(b"Hello world")
        f.flush()
        out = run(["-m", spm, "-f", f.name, "--no-bos"]).stdout.decode()
        if out != "[15043, 3186]\n":
            rftest.fail(f"-f: {out!r}")
    out = run(["-m", spm, "--pieces", "Hello world"]).stdout.decode()
    if out.splitlines() != ["     1 -> '<s>'", " 15043 -> ' Hello'", "  3186 -> ' world'"]:
        rftest.fail(f"--pieces: {out!r}")
    # control-token text: split up unless --parse-special
    plain = json.loads(run(["-m", smol, "--no-bos", "<|im_start|>"]).stdout)
    parsed = json.loads(run(["-m", smol, "--no-bos", "--parse-special", "<|im_start|>"]).stdout)
    if parsed != [1] or len(plain) < 2:
        rftest.fail(f"--parse-special: {parsed}, without: {plain}")
    # batch mode: requests of all kinds, one answer per line
    reqs = [{"text": "Hello world"}, {"hex": "48656c6c6f", "add_special": True}, {"decode": [1, 15043, 3186]},
            {"decode": [5, -1]}, {"decode": [32000]}, {"info": True}, {"nothing": 1}, "not an object"]
    p = run(["-m", spm, "--batch"], stdin="".join(json.dumps(r) + "\n" for r in reqs).encode() + b"{bad json\n")
    res = [json.loads(line) for line in p.stdout.decode().splitlines()]
    if len(res) != len(reqs) + 1:
        rftest.fail(f"batch: {len(res)} answers for {len(reqs) + 1} requests")
    if res[0]["ids"] != [15043, 3186] or bytes.fromhex(res[0]["decoded_hex"]) != b"Hello world":
        rftest.fail(f"batch text: {res[0]}")
    if res[1]["ids"] != [1, 15043]:
        rftest.fail(f"batch hex: {res[1]}")
    if bytes.fromhex(res[2]["hex"]) != b"<s> Hello world":
        rftest.fail(f"batch decode: {res[2]}")
    for r in res[3:5] + res[6:]:
        if "error" not in r:
            rftest.fail(f"batch: expected an error, got {r}")
    if res[5]["kind"] != "spm" or res[5]["n_vocab"] != 32000 or not res[5]["add_bos"]:
        rftest.fail(f"batch info: {res[5]}")
    # bad arguments and files
    run([], ok=False)
    run(["-m", spm], ok=False)
    run(["-m", spm, "a", "b"], ok=False)
    run(["-m", spm, "--bogus", "a"], ok=False)
    run(["-m", "/nonexistent.gguf", "a"], ok=False)
    run(["-m", spm, "-f", "/nonexistent.txt"], ok=False)
    with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
        f.write(b"GGUF" + b"\0" * 20)
        f.flush()
        p = run(["-m", f.name, "a"], ok=False)
        if not p.stderr:
            rftest.fail("no message for a broken file")
    print("rocmforge tokenize: ok")


if __name__ == "__main__":
    main()
