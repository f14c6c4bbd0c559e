"""rocmforge quantize against llama.cpp's recorded results
(tests/fixtures/make_quantize_fixtures.py made them with llama-cpp-python).

1. Tensor-type mixes: for every preset and every small input model of
   quant_model_gen.VARIANTS (and three presets on SmolLM2, requantized from
   its Q4_1 file), each tensor's type and general.file_type equal llama.cpp's;
   the metadata is the input's, general.quantization_version is 2, unchanged
   tensors are byte-identical, and both gguf's reader and ours open the file.
2. Precision: with --pure, per type, the root-mean-square error of our
   quantization (dequantized by gguf, an independent reader) is at most
   llama.cpp's + 2%, on random normal weights and on dequantized SmolLM2
   weights. A table of both is printed.
3. Bad inputs fail with one line on stderr and a non-zero exit.
Usage: test_quantize_model.py [--only mixes,rmse,errors]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import rftest

np = rftest.need("numpy")
gguf = rftest.need("gguf")
import quant_model_gen as gen  # noqa: E402

FIXTURES = os.path.join(rftest.SOURCE_DIR, "tests", "fixtures")
TOLERANCE = 1.02
THREADS = "2"

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("  FAIL " + msg, file=sys.stderr)
    return cond


def quantize(args, expect_ok=True):
    r = subprocess.run([rftest.tool("rocmforge"), "quantize"] + args, capture_output=True, text=True)
    if expect_ok and r.returncode != 0:
        rftest.fail(f"rocmforge quantize {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


def summary(path, with_data=True):
    """(types, fields, raw) of a GGUF from one gguf reader: {name: type name},
    {key: (value type, value)} without the GGUF.* pseudo keys, and
    {name: (type name, bytes)} (empty unless with_data)."""
    r = gguf.GGUFReader(path)
    types = {t.name: t.tensor_type.name for t in r.tensors}
    flds = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        v = f.contents()
        flds[k] = (int(f.types[0]), v.tolist() if isinstance(v, np.ndarray) else v)
    raw = {}
    if with_data:
        raw = {t.name: (t.tensor_type.name, np.ascontiguousarray(t.data).view(np.uint8).tobytes()) for t in r.tensors}
    return types, flds, raw


def our_reader_opens(path, n_tensors):
    r = subprocess.run([rftest.tool("rocmforge"), "inspect", "--json", path], capture_output=True, text=True)
    if not check(r.returncode == 0, f"rocmforge inspect cannot open {path}: {r.stderr.strip()}"):
        return
    n = len(json.loads(r.stdout).get("tensors", []))
    check(n == n_tensors, f"rocmforge inspect sees {n} tensors in {path}, expected {n_tensors}")


def check_output(src_summary, dst, want, label, full=True):
    """Types, file type, metadata and unchanged tensors of dst against its
    source (a summary()) and llama.cpp's record."""
    _, fi, ri = src_summary
    got, fo, ro = summary(dst, with_data=full)
    if not check(set(got) == set(want["tensors"]), f"{label}: tensor names differ from llama.cpp's"):
        return
    diff = [f"{n}: ours {got[n]}, llama.cpp {want['tensors'][n]}" for n in sorted(got) if got[n] != want["tensors"][n]]
    check(not diff, f"{label}: {len(diff)} tensor type(s) differ: " + "; ".join(diff[:6]))
    check(fo.get("general.file_type", (0, None))[1] == want["file_type"],
          f"{label}: general.file_type {fo.get('general.file_type')} != llama.cpp's {want['file_type']}")
    check(fo.get("general.quantization_version", (0, None))[1] == 2, f"{label}: general.quantization_version != 2")
    for k, v in fi.items():
        if k in ("general.file_type", "general.quantization_version"):
            continue
        check(fo.get(k) == v, f"{label}: metadata key {k} changed")
    extra = set(fo) - set(fi) - {"general.file_type", "general.quantization_version"}
    check(not extra, f"{label}: unexpected new keys {sorted(extra)}")
    if full:
        for n, (t, data) in ri.items():
            if ro[n][0] == t:
                check(ro[n][1] == data, f"{label}: unchanged tensor {n} is not byte-identical")
        our_reader_opens(dst, len(ri))


def test_mixes(tmp):
    with open(os.path.join(FIXTURES, "quantize_mixes.json")) as f:
        fx = json.load(f)
    print(f"mixes: reference llama-cpp-python {fx['versions']['llama_cpp_python']}")
    for variant in gen.VARIANTS:
        src = os.path.join(tmp, f"{variant}.gguf")
        d = gen.write_model(src, variant)
        if d != fx["inputs"][variant]:
            print(f"  note: {variant} input values differ from the fixture's (types do not depend on them)")
        src_sum = summary(src)
        ok = 0
        for preset, want in fx["mixes"][variant].items():
            name = "MXFP4" if preset == "MXFP4_MOE" else preset
            dst = os.path.join(tmp, f"{variant}-{preset}.gguf")
            r = quantize(["--threads", THREADS, src, dst, name])
            n_fail = len(failures)
            check_output(src_sum, dst, want, f"{variant}/{preset}")
            check("requantiz" not in r.stderr, f"{variant}/{preset}: requantization warning for an F16 input")
            ok += len(failures) == n_fail
            os.unlink(dst)
        print(f"  {variant:8s} {ok}/{len(fx['mixes'][variant])} presets identical to llama.cpp")

    # SmolLM2 (Q4_1 with a Q8_0 token_embd): the plan (--dry-run) for every
    # recorded preset, and one real requantization checked in full. Reading
    # its tokenizer arrays with gguf is slow, so the files are read once each.
    model = rftest.test_model()
    ok = 0
    for preset, want in fx["mixes"]["smollm2"].items():
        r = subprocess.run([rftest.tool("rocmforge"), "quantize", "--dry-run", model, "-", preset],
                           capture_output=True, text=True)
        plan = {ln.split()[0]: ln.split()[2] for ln in r.stdout.splitlines() if ln.strip()}
        diff = [f"{n}: ours {plan.get(n)}, llama.cpp {t}" for n, t in sorted(want["tensors"].items()) if plan.get(n) != t]
        ok += check(r.returncode == 0 and not diff and len(plan) == len(want["tensors"]),
                    f"smollm2/{preset} --dry-run: {r.stderr.strip()} " + "; ".join(diff[:6]))
    print(f"  {'smollm2':8s} {ok}/{len(fx['mixes']['smollm2'])} presets identical to llama.cpp (--dry-run)")
    preset = "Q4_K_M"
    dst = os.path.join(tmp, f"smollm2-{preset}.gguf")
    r = quantize(["--threads", THREADS, model, dst, preset])
    check("warning: requantizing from Q4_1" in r.stderr,
          f"smollm2/{preset}: no requantization warning on stderr:\n{r.stderr[-500:]}")
    n_fail = len(failures)
    check_output(summary(model, with_data=False), dst, fx["mixes"]["smollm2"][preset], f"smollm2/{preset}",
                 full=False)
    our_reader_opens(dst, len(fx["mixes"]["smollm2"][preset]["tensors"]))
    print(f"  smollm2  {preset} requantized: {'identical to llama.cpp' if len(failures) == n_fail else 'FAILED'}")
    os.unlink(dst)


def test_rmse(tmp):
    with open(os.path.join(FIXTURES, "quantize_rmse.json")) as f:
        fx = json.load(f)
    inputs = {"random": gen.random_tensors(), "smollm2": gen.smol_tensors(rftest.test_model())}
    rows = []
    for name, tensors in inputs.items():
        src = os.path.join(tmp, f"rmse-{name}.gguf")
        d = gen.write_f32_model(src, tensors)
        if d != fx["inputs"][name]["digest"]:
            print(f"  note: {name} input values differ from the fixture's digest")
        for tname in gen.PURE_TYPES:
            ref = fx["inputs"][name]["types"][tname]
            dst = os.path.join(tmp, f"rmse-{name}-{tname}.gguf")
            quantize(["--pure", "--threads", THREADS, src, dst, tname])
            got_types = gen.tensor_types(dst)
            check(got_types == ref["tensors"], f"rmse {name}/{tname}: tensor types {got_types} != llama.cpp's")
            e = gen.rmse(tensors, dst)
            ratio = e / ref["rmse"] if ref["rmse"] > 0 else (1.0 if e == 0 else float("inf"))
            good = check(e <= ref["rmse"] * TOLERANCE,
                         f"rmse {name}/{tname}: ours {e:.6g} > llama.cpp {ref['rmse']:.6g} * {TOLERANCE}")
            rows.append((name, tname, e, ref["rmse"], ratio, good))
            os.unlink(dst)
    print(f"precision (--pure), RMSE vs llama-cpp-python {fx['versions']['llama_cpp_python']}:")
    print(f"  {'input':8s} {'type':7s} {'ours':>12s} {'llama.cpp':>12s} {'ratio':>7s}")
    for name, tname, e, ref, ratio, good in rows:
        print(f"  {name:8s} {tname:7s} {e:12.6g} {ref:12.6g} {ratio:7.4f} {'ok' if good else 'FAIL'}")


def one_line_error(r, label):
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    check(r.returncode != 0, f"{label}: exit status 0")
    check(len(lines) == 1, f"{label}: expected one line on stderr, got {lines!r}")
    check(not r.stdout.strip(), f"{label}: unexpected stdout {r.stdout!r}")


def test_errors(tmp):
    src = os.path.join(tmp, "tied.gguf")
    gen.write_model(src, "tied")
    junk = os.path.join(tmp, "junk.gguf")
    with open(junk, "wb") as f:
        f.write(bytes((i * 37 + 11) & 0xFF for i in range(4096)))
    out = os.path.join(tmp, "out.gguf")
    cases = [
        ("non-GGUF input", [junk, out, "Q4_0"]),
        ("missing input", [os.path.join(tmp, "missing.gguf"), out, "Q4_0"]),
        ("unknown type", [src, out, "Q4_7"]),
        ("unwritable output", [src, os.path.join(tmp, "no-such-dir", "out.gguf"), "Q4_0"]),
        ("output is the input", [src, src, "Q8_0"]),
        ("bad thread count", ["--threads", "0", src, out, "Q8_0"]),
        ("importance matrix", ["--imatrix", "x.dat", src, out, "Q8_0"]),
    ]
    for label, args in cases:
        r = quantize(args, expect_ok=False)
        one_line_error(r, label)
        check(not os.path.exists(out), f"{label}: left an output file")
        print(f"  {label:20s} exit {r.returncode}: {r.stderr.strip()}")
    check(gen.tensor_types(src).get("token_embd.weight") == "F16", "the input was modified")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="mixes,rmse,errors")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rf-quantize-") as tmp:
        if "mixes" in a.only:
            test_mixes(tmp)
        if "rmse" in a.only:
            test_rmse(tmp)
        if "errors" in a.only:
            print("bad inputs:")
            test_errors(tmp)
    if failures:
        rftest.fail(f"{len(failures)} check(s) failed")
    print("all quantize checks passed")


if __name__ == "__main__":
    main()
