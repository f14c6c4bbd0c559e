"""The chat template engine against PyPI jinja2, byte for byte.

1. Snippets (tmpl_cases.SNIPPETS): expressions, filters, tests, methods,
   whitespace control, scoping, macros, loops, errors.
2. Every template in $RF_TESTDATA/templates with every conversation in
   tmpl_cases.CONVERSATIONS, add_generation_prompt off and on, rendered through
   rf__chat_apply_ex with the globals transformers passes.

Where jinja2 raises, the engine must fail with RF_ERR_TEMPLATE (9); where
jinja2 renders, the output must be identical. strftime_now is fixed to one
UTC time on both sides. All cases go through one rf_tmpl process.
Usage: test_templates.py [-v] [--only NAME]
"""
import argparse
import copy
import json
import os
import subprocess
import sys

import rftest
import tmpl_cases
import tmpl_ref

RF_ERR_TEMPLATE = 9
RF_ERR_BUDGET = 10
# jinja2's own resource limits; the engine reports those as RF_ERR_BUDGET
BUDGET_ERRORS = ("RecursionError", "OverflowError: Range too big")
# Documented differences: integers are 64-bit, so results beyond that are an
# error (RF_ERR_TEMPLATE) where Python would use a big integer.
KNOWN_ERRORS = {"{{ 2 ** 64 }}", "{{ 10 ** 19 }}"}
NOW = 1735787045  # 2025-01-02 03:04:05 UTC


def run_engine(requests):
    tool = rftest.tool("rf_tmpl")
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests).encode()
    p = subprocess.run([tool], input=data, capture_output=True, timeout=600)
    if p.returncode != 0:
        rftest.fail(f"rf_tmpl exited with {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    lines = p.stdout.decode().split("\n")[:-1]
    if len(lines) != len(requests):
        rftest.fail(f"rf_tmpl answered {len(lines)} of {len(requests)} requests")
    return [json.loads(x) for x in lines]


def compare(ref, got, known_error=False):
    """None if equal, else a description."""
    ok, text = ref
    if known_error:
        if got["ok"] or got["status"] != RF_ERR_TEMPLATE:
            return f"expected a clean RF_ERR_TEMPLATE (known difference), got {got}"
        return None
    if ok:
        if not got["ok"]:
            return f"jinja2 rendered {text!r:.300} but engine failed: {got['error']}"
        if got["out"] != text:
            a, b = text, got["out"]
            i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            return (f"output differs at char {i}:\n   jinja2: {a[max(0, i - 60):i + 80]!r}\n   engine: "
                    f"{b[max(0, i - 60):i + 80]!r}")
        return None
    if got["ok"]:
        return f"jinja2 raised ({text:.200}) but engine rendered {got['out']!r:.200}"
    want = RF_ERR_BUDGET if text.startswith(BUDGET_ERRORS) else RF_ERR_TEMPLATE
    if got["status"] != want:
        return f"jinja2 raised ({text:.200}); engine failed with status {got['status']} not {want}: {got['error']}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    env = tmpl_ref.make_env(NOW)

    cases = []  # (group, label, ref result, request)
    for i, src in enumerate(tmpl_cases.SNIPPETS):
        ctx = copy.deepcopy(tmpl_cases.CTX)  # some jinja2 filters modify their input (indent on a list)
        cases.append(("snippets", f"snippet {i}: {src[:70]!r}", tmpl_ref.render(env, src, ctx),
                      {"source": src, "context": ctx, "now": NOW, "known_error": src in KNOWN_ERRORS}))

    tdir = os.path.join(rftest.TESTDATA, "templates")
    if not os.path.isdir(tdir):
        rftest.fail(f"{tdir} missing (set RF_TESTDATA)")
    names = sorted(f for f in os.listdir(tdir) if f.endswith(".jinja"))
    if not names:
        rftest.fail(f"no templates in {tdir}")
    for name in names:
        path = os.path.join(tdir, name)
        with open(path, encoding="utf-8") as fh:
            src = fh.read()
        for conv in tmpl_cases.CONVERSATIONS:
            conv = copy.deepcopy(conv)
            for gen in (False, True):
                ctx = copy.deepcopy(tmpl_ref.chat_context(conv["messages"], conv.get("tools"), gen, "<s>", "</s>",
                                                          conv.get("extra")))
                chat = {"messages": conv["messages"], "tools": conv.get("tools"), "add_generation_prompt": gen,
                        "bos_token": "<s>", "eos_token": "</s>", "extra": conv.get("extra") or {}}
                cases.append((name, f"{name} / {conv['name']} / gen={gen}", tmpl_ref.render(env, src, ctx),
                              {"template": path, "chat": chat, "now": NOW}))

    if args.only:
        cases = [c for c in cases if args.only in c[0] or args.only in c[1]]
    answers = run_engine([c[3] for c in cases])

    stats = {}
    failures = []
    for (group, label, ref, req), got in zip(cases, answers):
        st = stats.setdefault(group, [0, 0, 0])  # passed, total, of which jinja2 raised
        st[1] += 1
        st[2] += 0 if ref[0] else 1
        why = compare(ref, got, req.get("known_error", False))
        if why is None:
            st[0] += 1
            if args.v:
                print(f"ok   {label}")
        else:
            failures.append(f"FAIL {label}\n   {why}")

    for f in failures:
        print(f)
    print(f"{'group':48s} {'passed':>7s} {'cases':>6s} {'raised':>7s}")
    for group, (p, t, r) in stats.items():
        print(f"{group:48s} {p:7d} {t:6d} {r:7d}")
    total = sum(s[1] for s in stats.values())
    passed = sum(s[0] for s in stats.values())
    print(f"{'total':48s} {passed:7d} {total:6d}")
    if failures:
        rftest.fail(f"{len(failures)} of {total} cases differ from jinja2")
    print("all cases identical to jinja2")


if __name__ == "__main__":
    main()
