"""Writes the seed corpus of fuzz_template: the chat templates from
../shared/testdata/templates and the snippets of tests/py/tmpl_cases.py.
Usage: python3 fuzz/make_template_seeds.py [TESTDATA]"""
import hashlib
import os
import shutil
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "tests", "py"))
import tmpl_cases  # noqa: E402

testdata = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RF_TESTDATA", os.path.join(root, "..", "shared", "testdata"))
out = os.path.join(root, "fuzz", "corpus", "template")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
n = 0
tdir = os.path.join(testdata, "templates")
for name in sorted(os.listdir(tdir)):
    shutil.copy(os.path.join(tdir, name), os.path.join(out, name))
    n += 1
for src in tmpl_cases.SNIPPETS:
    data = src.encode()
    with open(os.path.join(out, "snippet-" + hashlib.sha1(data).hexdigest()[:12]), "wb") as f:
        f.write(data)
    n += 1
print(f"{n} seeds in {out}")
