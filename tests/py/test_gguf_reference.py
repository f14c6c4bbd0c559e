#!/usr/bin/env python3
"""`rocmforge inspect --json` against gguf-py's GGUFReader.

Files written with gguf-py's GGUFWriter (every value type, nested arrays, many
tensor types and shapes, several alignments), the llama.cpp vocab files under
RF_TESTDATA/vocab and the test model (RF_TEST_MODEL) are read by both; keys,
value types, values, tensor names, shapes, types and offsets must agree.
Corrupted copies must make inspect exit with status 1 and one line on stderr.
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rftest  # noqa: E402

np = rftest.need("numpy")
gguf = rftest.need("gguf")
from gguf import GGMLQuantizationType as QT  # noqa: E402
from gguf import GGUFReader, GGUFValueType, GGUFWriter  # noqa: E402

VT = {
    GGUFValueType.UINT8: "u8", GGUFValueType.INT8: "i8", GGUFValueType.UINT16: "u16",
    GGUFValueType.INT16: "i16", GGUFValueType.UINT32: "u32", GGUFValueType.INT32: "i32",
    GGUFValueType.FLOAT32: "f32", GGUFValueType.BOOL: "bool", GGUFValueType.STRING: "string",
    GGUFValueType.ARRAY: "array", GGUFValueType.UINT64: "u64", GGUFValueType.INT64: "i64",
    GGUFValueType.FLOAT64: "f64",
}
LIMIT = 64
ROCMFORGE = rftest.tool("rocmforge")
errors = []


def err(msg):
    errors.append(msg)
    if len(errors) < 30:
        print("MISMATCH: " + msg, file=sys.stderr)


# ---- reference values from GGUFReader's parts ------------------------------------------------

def rebuild(parts, i, vtype):
    """Value starting at parts[i] of type vtype -> (python value, next index).
    Strings are bytes; arrays are (elem_type, [values])."""
    vtype = GGUFValueType(int(vtype))
    if vtype == GGUFValueType.STRING:
        return bytes(parts[i + 1].tobytes()), i + 2
    if vtype == GGUFValueType.ARRAY:
        itype = int(parts[i][0])
        n = int(parts[i + 1][0])
        i += 2
        vals = []
        for _ in range(n):
            v, i = rebuild(parts, i, itype)
            vals.append(v)
        return (GGUFValueType(itype), vals), i
    return parts[i][0], i + 1


def same_scalar(vtype, ref, js, where):
    name = VT[vtype]
    if name == "string":
        if isinstance(js, str):
            got = js.encode("utf-8")
        elif isinstance(js, dict) and "hex" in js:
            got = bytes.fromhex(js["hex"])
            try:
                ref.decode("utf-8")
                err(f"{where}: valid UTF-8 string given as hex")
            except UnicodeDecodeError:
                pass
        else:
            return err(f"{where}: string expected, got {js!r}")
        if got != ref:
            err(f"{where}: string {got[:40]!r} != {ref[:40]!r}")
    elif name == "bool":
        if js is not bool(ref):
            err(f"{where}: bool {js!r} != {ref!r}")
    elif name in ("f32", "f64"):
        r = float(ref)
        if math.isnan(r):
            ok = js == "nan"
        elif math.isinf(r):
            ok = js == ("inf" if r > 0 else "-inf")
        else:
            ok = isinstance(js, (int, float)) and not isinstance(js, bool) and float(js) == r
        if not ok:
            err(f"{where}: float {js!r} != {r!r}")
    else:
        r = int(ref)
        got = int(js) if isinstance(js, str) and name == "u64" and r > 2**63 - 1 else js
        if isinstance(got, bool) or not isinstance(got, int) or got != r:
            err(f"{where}: int {js!r} != {r}")


def same_value(vtype, ref, js, full, where):
    vtype = GGUFValueType(int(vtype))
    if vtype != GGUFValueType.ARRAY:
        return same_scalar(vtype, ref, js, where)
    etype, vals = ref
    if not isinstance(js, dict):
        return err(f"{where}: array object expected, got {type(js).__name__}")
    if js.get("elem_type") != VT[etype] or js.get("n") != len(vals):
        return err(f"{where}: array {js.get('elem_type')} x {js.get('n')} != {VT[etype]} x {len(vals)}")
    want_values = full or len(vals) <= LIMIT
    if ("values" in js) != want_values:
        return err(f"{where}: values present={('values' in js)}, expected {want_values}")
    if want_values:
        if len(js["values"]) != len(vals):
            return err(f"{where}: {len(js['values'])} values != {len(vals)}")
        for k, (r, j) in enumerate(zip(vals, js["values"])):
            same_value(etype, r, j, full, f"{where}[{k}]")


def inspect_json(path, full):
    args = [ROCMFORGE, "inspect", path, "--json"] + (["--full"] if full else [])
    p = subprocess.run(args, capture_output=True)
    if p.returncode != 0:
        rftest.fail(f"inspect {path} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return json.loads(p.stdout)


def compare(path, full):
    r = GGUFReader(path)
    doc = inspect_json(path, full)
    where0 = os.path.basename(path) + (" --full" if full else "")
    fields = [f for f in r.fields.values() if not f.name.startswith("GGUF.")]
    hdr = {f.name: int(f.parts[0][0]) for f in r.fields.values() if f.name.startswith("GGUF.")}
    if hdr.get("GGUF.version") != doc["version"] or hdr.get("GGUF.kv_count") != len(doc["metadata"]) or \
            hdr.get("GGUF.tensor_count") != len(doc["tensors"]):
        err(f"{where0}: header {hdr} != version {doc['version']}")
    meta = doc["metadata"]
    if len(meta) != len(fields):
        err(f"{where0}: {len(meta)} keys != {len(fields)}")
    for f, m in zip(fields, meta):
        where = f"{where0}:{f.name}"
        if m["key"] != f.name:
            err(f"{where}: key {m['key']!r}")
            continue
        if m["type"] != VT[f.types[0]]:
            err(f"{where}: type {m['type']} != {VT[f.types[0]]}")
            continue
        ref, end = rebuild(f.parts, 3, f.types[0])
        if end != len(f.parts):
            err(f"{where}: reference parts not consumed ({end} of {len(f.parts)})")
        same_value(f.types[0], ref, m["value"], full, where)
    if doc["alignment"] != r.alignment:
        err(f"{where0}: alignment {doc['alignment']} != {r.alignment}")
    if doc["data_offset"] != r.data_offset:
        err(f"{where0}: data_offset {doc['data_offset']} != {r.data_offset}")
    if doc["file_size"] != os.path.getsize(path):
        err(f"{where0}: file_size")
    tens = doc["tensors"]
    if len(tens) != len(r.tensors):
        err(f"{where0}: {len(tens)} tensors != {len(r.tensors)}")
    params = 0
    for t, j in zip(r.tensors, tens):
        where = f"{where0}:{t.name}"
        params += int(t.n_elements)
        if j["name"] != t.name:
            err(f"{where}: name {j['name']}")
        if j["shape"] != [int(x) for x in t.shape]:
            err(f"{where}: shape {j['shape']} != {list(t.shape)}")
        if j["type_id"] != int(t.tensor_type) or j["type"] != QT(t.tensor_type).name:
            err(f"{where}: type {j['type']}/{j['type_id']} != {QT(t.tensor_type).name}")
        if j["file_offset"] != int(t.data_offset) or j["offset"] != int(t.data_offset) - r.data_offset:
            err(f"{where}: offset {j['file_offset']} != {t.data_offset}")
        if j["bytes"] != int(t.n_bytes):
            err(f"{where}: bytes {j['bytes']} != {t.n_bytes}")
    if doc["parameters"] != params:
        err(f"{where0}: parameters {doc['parameters']} != {params}")
    return doc


# ---- files written by gguf-py ------------------------------------------------------------------

def write_all_types(path, alignment, seed):
    rng = np.random.default_rng(seed)
    w = GGUFWriter(path, "llama")
    if alignment:
        w.add_custom_alignment(alignment)
    w.add_name("reference test")
    w.add_file_type(15)
    w.add_block_count(3)
    w.add_context_length(int(rng.integers(100, 10000)))
    w.add_head_count(8)
    w.add_head_count_kv([2, 4, 8])
    w.add_layer_norm_rms_eps(float(rng.random()))
    w.add_rope_freq_base(float(rng.random() * 1e6))
    w.add_uint8("t.u8", int(rng.integers(0, 256)))
    w.add_int8("t.i8", int(rng.integers(-128, 128)))
    w.add_uint16("t.u16", int(rng.integers(0, 65536)))
    w.add_int16("t.i16", int(rng.integers(-32768, 32768)))
    w.add_uint32("t.u32", int(rng.integers(0, 2**32)))
    w.add_int32("t.i32", int(rng.integers(-2**31, 2**31)))
    w.add_float32("t.f32", float(rng.standard_normal()))
    w.add_float32("t.f32_nan", float("nan"))
    w.add_float32("t.f32_inf", float("-inf"))
    w.add_bool("t.bool_t", True)
    w.add_bool("t.bool_f", False)
    w.add_uint64("t.u64", 2**64 - 1 - int(rng.integers(0, 1000)))
    w.add_uint64("t.u64_small", int(rng.integers(0, 2**40)))
    w.add_int64("t.i64", -2**63 + int(rng.integers(0, 1000)))
    w.add_float64("t.f64", float(rng.standard_normal() * 1e100))
    w.add_string("t.str", "h\u00e9llo \u4e16\u754c \U0001f600 \"q\" \\ \n\t")
    w.add_string("t.str_empty", "")
    w.add_key_value("t.bytes_not_utf8", b"\xff\xfe\x80abc", GGUFValueType.STRING)
    w.add_array("a.u8", [int(x) for x in rng.integers(0, 256, 50)])
    w.add_key_value("a.i8", [int(x) for x in rng.integers(-128, 128, 10)], GGUFValueType.ARRAY,
                    sub_type=GGUFValueType.INT8)
    w.add_key_value("a.u16", [int(x) for x in rng.integers(0, 65536, 10)], GGUFValueType.ARRAY,
                    sub_type=GGUFValueType.UINT16)
    w.add_key_value("a.i16", [int(x) for x in rng.integers(-32768, 32768, 10)], GGUFValueType.ARRAY,
                    sub_type=GGUFValueType.INT16)
    w.add_key_value("a.u32", [int(x) for x in rng.integers(0, 2**32, 10)], GGUFValueType.ARRAY,
                    sub_type=GGUFValueType.UINT32)
    w.add_array("a.i32", [int(x) for x in rng.integers(-2**31, 2**31, 100)])  # > LIMIT
    w.add_array("a.f32", [float(x) for x in rng.standard_normal(64)])        # == LIMIT
    w.add_key_value("a.f64", [float(x) for x in rng.standard_normal(65)], GGUFValueType.ARRAY,
                    sub_type=GGUFValueType.FLOAT64)                          # LIMIT + 1
    w.add_array("a.bool", [bool(x) for x in rng.integers(0, 2, 7)])
    w.add_key_value("a.u64", [int(x) for x in rng.integers(0, 2**62, 5)] + [2**64 - 1], GGUFValueType.ARRAY,
                    sub_type=GGUFValueType.UINT64)
    w.add_key_value("a.i64", [int(x) for x in rng.integers(-2**62, 2**62, 5)], GGUFValueType.ARRAY,
                    sub_type=GGUFValueType.INT64)
    w.add_array("a.str", ["", "x", "\u00fc\u00f1\u00ee", "<0x0A>"] + [f"tok{i}" for i in range(80)])
    w.add_array("n.ints", [[1, 2, 3], [4], [5, 6]])
    w.add_array("n.strs", [["a", "bb"], ["ccc"]])
    w.add_array("n.deep", [[[1.5, 2.5], [3.5]], [[4.5]]])
    w.add_array("n.wide", [[int(x) for x in rng.integers(0, 100, 3)] for _ in range(70)])
    w.add_token_list(["<unk>", "<s>", "</s>", "a", "b"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(77)  # beyond the vocabulary
    w.add_add_bos_token(True)
    w.add_chat_template("{{ messages }}")
    # tensors: several types and shapes (quantized ones as raw random blocks)
    w.add_tensor("f32.1d", rng.standard_normal(7, dtype=np.float32))
    w.add_tensor("f32.4d", rng.standard_normal((2, 3, 4, 5), dtype=np.float32))
    w.add_tensor("f16.2d", rng.standard_normal((3, 9)).astype(np.float16))
    w.add_tensor("f64.1d", rng.standard_normal(3))
    w.add_tensor("i8.3d", rng.integers(-100, 100, (2, 2, 3), dtype=np.int8))
    w.add_tensor("i16", rng.integers(-100, 100, 5, dtype=np.int16))
    w.add_tensor("i32", rng.integers(-100, 100, 6, dtype=np.int32))
    w.add_tensor("i64", rng.integers(-100, 100, 2, dtype=np.int64))
    for qt, rows in ((QT.Q4_0, 3), (QT.Q8_0, 2), (QT.Q4_K, 2), (QT.Q6_K, 1), (QT.BF16, 4), (QT.Q5_1, 2),
                     (QT.IQ2_XXS, 1), (QT.TQ2_0, 1), (QT.MXFP4, 2)):
        bs, ts = gguf.GGML_QUANT_SIZES[qt]
        blocks = max(1, 64 // bs) if bs < 256 else 1
        raw = rng.integers(0, 256, (rows, blocks * ts), dtype=np.uint8)
        w.add_tensor(f"q.{qt.name.lower()}", raw, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def check_human(path):
    p = subprocess.run([ROCMFORGE, "inspect", path], capture_output=True)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0 or "format:" not in out or "tensors (" not in out or "tokenizer:" not in out:
        err(f"{path}: human view failed ({p.returncode}): {p.stderr[:200]!r}")
    return out


def check_corrupt(path, rng, count):
    """Truncations and byte flips: exit status 0 or 1, one line on stderr for 1, never a crash."""
    data = open(path, "rb").read()
    tmp = path + ".bad"
    cases = [data[:n] for n in sorted(set(int(x) for x in rng.integers(0, len(data), count // 2)))]
    for _ in range(count // 2):
        b = bytearray(data[: min(len(data), 4096)])
        for _ in range(int(rng.integers(1, 8))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        cases.append(bytes(b))
    failures = 0
    for c in cases:
        with open(tmp, "wb") as f:
            f.write(c)
        p = subprocess.run([ROCMFORGE, "inspect", tmp, "--json"], capture_output=True)
        if p.returncode not in (0, 1):
            err(f"corrupt copy of {path}: exit status {p.returncode}")
        if p.returncode == 1:
            failures += 1
            lines = p.stderr.decode("utf-8", "replace").splitlines()
            if len(lines) != 1 or not lines[0].startswith("rocmforge inspect: "):
                err(f"corrupt copy: stderr {p.stderr[:200]!r}")
        else:
            json.loads(p.stdout)
    os.unlink(tmp)
    if failures == 0:
        err(f"no corrupted copy of {path} was rejected")


def main():
    rng = np.random.default_rng(20240607)
    with tempfile.TemporaryDirectory() as d:
        for k, align in enumerate((None, 64, 256)):
            path = os.path.join(d, f"all_types_{k}.gguf")
            write_all_types(path, align, 1000 + k)
            for full in (False, True):
                doc = compare(path, full)
            if doc["alignment"] != (align or 32):
                err(f"{path}: alignment {doc['alignment']}")
            sp = doc["tokenizer"]["special"]
            if sp["padding"]["valid"] or not sp["bos"]["valid"] or sp["bos"]["text"] != "<s>":
                err(f"{path}: special tokens {sp}")
            if doc["hyperparameters"]["attention.head_count_kv"]["values"] != [2, 4, 8]:
                err(f"{path}: per-layer head_count_kv")
            out = check_human(path)
            if "77 (invalid" not in out:
                err(f"{path}: padding id 77 not reported invalid")
            check_corrupt(path, rng, 60)
        vocab_dir = os.path.join(rftest.TESTDATA, "vocab")
        vocabs = sorted(os.path.join(vocab_dir, f) for f in os.listdir(vocab_dir) if f.endswith(".gguf")) \
            if os.path.isdir(vocab_dir) else []
        if not vocabs:
            rftest.fail(f"no vocab files under {vocab_dir} (set RF_TESTDATA)")
        for v in vocabs:
            for full in (False, True):
                compare(v, full)
            check_human(v)
        model = rftest.test_model()
        for full in (False, True):
            doc = compare(model, full)
        if doc["architecture"] != "llama" or doc["tokenizer"]["vocab_size"] != 49152:
            err("SmolLM2: architecture or vocab size")
        check_human(model)
        # not GGUF at all, and missing
        p = subprocess.run([ROCMFORGE, "inspect", __file__], capture_output=True)
        if p.returncode != 1 or b"not a GGUF file" not in p.stderr:
            err(f"non-GGUF file: {p.returncode} {p.stderr!r}")
        p = subprocess.run([ROCMFORGE, "inspect", os.path.join(d, "missing.gguf")], capture_output=True)
        if p.returncode != 1:
            err("missing file")
    if errors:
        rftest.fail(f"{len(errors)} mismatches")
    print(f"ok: {len(vocabs)} vocab files, model, 3 written files agree with GGUFReader")


if __name__ == "__main__":
    main()
