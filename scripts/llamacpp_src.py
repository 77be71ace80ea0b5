#!/usr/bin/python3
"""llama.cpp's own source tree, as node-llama-cpp ships it
(deps/node_modules/node-llama-cpp/llama/gitRelease.bundle, a git bundle of
the exact llama.cpp release its binaries are built from), cloned once into
build/llama.cpp-src. The clone of a local bundle needs no network.

  import llamacpp_src; gguf = llamacpp_src.import_gguf()
      llama.cpp's gguf-py (GGUFWriter, GGUFReader, quants, constants)
  llamacpp_src.py            prints the source folder (cloning it if needed)

The clone is redone when the bundle changes (a stamp of its size and mtime
sits beside the tree) and is made in a temporary folder and renamed into
place, so concurrent callers never see half a tree."""

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLE = os.path.join(ROOT, "deps/node_modules/node-llama-cpp/llama/gitRelease.bundle")
DEST = os.path.join(ROOT, "build/llama.cpp-src")
STAMP = DEST + ".stamp"


def _bundle_stamp():
    st = os.stat(BUNDLE)
    return f"{st.st_size} {int(st.st_mtime)}"


def ensure():
    """Returns the path of the llama.cpp source tree, cloning it if needed."""
    if not os.path.isfile(BUNDLE):
        raise SystemExit(f"{BUNDLE} missing: run `make deps` (npm node-llama-cpp)")
    want = _bundle_stamp()
    try:
        have = open(STAMP).read().strip()
    except OSError:
        have = None
    if have == want and os.path.isdir(os.path.join(DEST, "gguf-py", "gguf")):
        return DEST
    os.makedirs(os.path.dirname(DEST), exist_ok=True)
    tmp = f"{DEST}.tmp.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    r = subprocess.run(["git", "-c", "advice.detachedHead=false", "clone", "-q", BUNDLE, tmp],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit(f"git clone {BUNDLE} failed:\n{r.stdout}")
    old = f"{DEST}.old.{os.getpid()}"
    if os.path.exists(DEST):
        try:
            os.rename(DEST, old)
        except OSError:
            pass
    try:
        os.rename(tmp, DEST)
    except OSError:  # another process put its clone there first
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    with open(STAMP + f".{os.getpid()}", "w") as f:
        f.write(want + "\n")
    os.replace(STAMP + f".{os.getpid()}", STAMP)
    return DEST


def import_gguf():
    """llama.cpp's gguf-py package from the bundled source."""
    path = os.path.join(ensure(), "gguf-py")
    if path not in sys.path:
        sys.path.insert(0, path)
    import gguf  # noqa: E402
    if not os.path.abspath(gguf.__file__).startswith(path):
        raise SystemExit(f"imported gguf from {gguf.__file__}, not from {path}")
    return gguf


if __name__ == "__main__":
    print(ensure())
