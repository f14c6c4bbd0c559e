#!/usr/bin/env python3
"""llama.cpp (llama-cpp-python) speed in the shape of `rocmforge bench`: pp (one batch of N
random tokens from an empty context) and tg (N tokens one at a time from an empty context),
tokens per second as mean +- sample stddev over -r repetitions after one warm-up run.

  python3 bench/llamacpp_bench.py -m MODEL.gguf [-p 512] [-n 128] [-r 5] [-t 2]
"""
import argparse
import random
import statistics
import time

import llama_cpp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-m", required=True)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", type=int, default=5)
    ap.add_argument("-t", type=int, default=2)
    a = ap.parse_args()
    n_ctx = max(a.p, a.n, 16)
    llm = llama_cpp.Llama(model_path=a.m, n_ctx=n_ctx, n_batch=max(a.p, 1), n_ubatch=max(a.p, 1),
                          n_threads=a.t, n_threads_batch=a.t, flash_attn=False, verbose=False)
    rng = random.Random(1)
    nv = llm.n_vocab()

    def once(n, batch):
        toks = [rng.randrange(nv) for _ in range(n)]
        llm.reset()
        llm._ctx.memory_clear(True) if hasattr(llm._ctx, "memory_clear") else None
        t0 = time.perf_counter()
        if batch:
            llm.eval(toks)
        else:
            for t in toks:
                llm.eval([t])
        return time.perf_counter() - t0

    print("| model | threads | test | t/s |")
    print("| --- | ---: | ---: | ---: |")
    for n, batch, name in ((a.p, True, f"pp{a.p}"), (a.n, False, f"tg{a.n}")):
        if n <= 0:
            continue
        once(n, batch)
        ts = [n / once(n, batch) for _ in range(a.r)]
        sd = statistics.stdev(ts) if len(ts) > 1 else 0.0
        print(f"| llama.cpp {llama_cpp.__version__} | {a.t} | {name} | {statistics.mean(ts):.2f} ± {sd:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
