"""The committed i-quant grid tables (src/quant/iq_grids.[ch]) are exactly what
src/quant/gen_iq_grids.py produces from PyPI gguf's quants.py."""
import os
import subprocess
import sys

import rftest

rftest.need("numpy")
rftest.need("gguf")
script = os.path.join(rftest.SOURCE_DIR, "src", "quant", "gen_iq_grids.py")
r = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True)
sys.stdout.write(r.stdout)
sys.stderr.write(r.stderr)
sys.exit(r.returncode)
