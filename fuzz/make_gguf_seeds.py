#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_gguf (fuzz/corpus/gguf/) with PyPI gguf's
GGUFWriter. Run from anywhere; needs gguf and numpy. Seeds stay small (< 100 KB).

    python3 fuzz/make_gguf_seeds.py [--vocab ../shared/testdata/vocab/ggml-vocab-llama-spm.gguf]
"""
import argparse
import os

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter, GGMLQuantizationType

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf")
rng = np.random.default_rng(1234)


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def tiny_model():
    w = GGUFWriter(os.path.join(OUT, "tiny_model.gguf"), "llama")
    w.add_name("tiny")
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_embedding_length(32)
    w.add_feed_forward_length(64)
    w.add_head_count(4)
    w.add_head_count_kv([2, 4])
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(2)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -5)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -300)
    w.add_uint32("t.u32", 7)
    w.add_int32("t.i32", -7)
    w.add_float32("t.f32", 0.25)
    w.add_bool("t.bool", True)
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -(2**62))
    w.add_float64("t.f64", 3.5)
    w.add_string("t.str", "hello")
    w.add_array("t.arr_f32", [1.0, 2.5, -3.0])
    w.add_array("t.arr_str", ["a", "bc", ""])
    w.add_tensor("token_embd.weight", rng.standard_normal((2, 8), dtype=np.float32))
    w.add_tensor("blk.0.attn_norm.weight", rng.standard_normal(16).astype(np.float16))
    q = rng.integers(0, 255, size=(2, 18), dtype=np.uint8)  # Q4_0: 2 rows of one block
    w.add_tensor("blk.0.attn_q.weight", q, raw_dtype=GGMLQuantizationType.Q4_0)
    q8 = rng.integers(0, 255, size=(1, 34), dtype=np.uint8)
    w.add_tensor("blk.0.q8", q8, raw_dtype=GGMLQuantizationType.Q8_0)
    finish(w)


def nested():
    w = GGUFWriter(os.path.join(OUT, "nested.gguf"), "test")
    w.add_array("n.ints", [[1, 2], [3], [4, 5, 6]])
    w.add_array("n.strs", [["x", "yy"], ["zzz"]])
    w.add_array("n.deep", [[[1.5, 2.5]], [[3.5]]])
    w.add_custom_alignment(64)
    w.add_tensor("w", rng.integers(-100, 100, size=(3, 5), dtype=np.int8))
    w.add_tensor("v", rng.integers(-100, 100, size=(7,), dtype=np.int32))
    finish(w)


def vocab(src):
    r = GGUFReader(src)
    f = r.fields
    def strs(key):
        fl = f[key]
        return [bytes(fl.parts[i]).decode("utf-8", "replace") for i in fl.data]
    tokens = strs("tokenizer.ggml.tokens")[:400]
    w = GGUFWriter(os.path.join(OUT, "vocab.gguf"), "llama")
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores([float(-i) for i in range(len(tokens))])
    w.add_token_types([1 if i > 2 else 3 for i in range(len(tokens))])
    w.add_token_merges(["a b", "c d", "ab cd"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_pad_token_id(999)  # beyond the vocabulary on purpose
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    finish(w)


def split_single():
    w = GGUFWriter(os.path.join(OUT, "split_meta.gguf"), "llama")
    w.add_uint16("split.no", 0)
    w.add_uint16("split.count", 1)
    w.add_int32("split.tensors.count", 1)
    w.add_tensor("t", rng.standard_normal(4, dtype=np.float32))
    finish(w)


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--vocab", default=os.path.join(here, "..", "..", "shared", "testdata", "vocab",
                                                    "ggml-vocab-llama-spm.gguf"))
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    tiny_model()
    nested()
    vocab(a.vocab)
    split_single()


if __name__ == "__main__":
    main()
