#!/usr/bin/env python3
"""The wrapgraph command: output, errors on stderr, exit statuses.

usage: check_cli.py WRAPGRAPH_EXECUTABLE SOURCE_ROOT
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

tool = sys.argv[1]
root = pathlib.Path(sys.argv[2])
programs = root / "examples" / "programs"
scratch = tempfile.mkdtemp(prefix="wrapgraph-cli-")
# Kernels compile into a cache of their own.
env = dict(os.environ, WRAPGRAPH_CACHE_DIR=os.path.join(scratch, "cache"))
# A program whose example expects a wrong result.
wrong = json.loads((programs / "add.json").read_text())
wrong["examples"] = [wrong["examples"][0]]
wrong["examples"][0]["outputs"][0]["data"][0] += 1
wrong_path = os.path.join(scratch, "wrong.json")
pathlib.Path(wrong_path).write_text(json.dumps(wrong))
cases = [
    # (arguments, exit status, expected stdout, text expected in stderr)
    (["expr", "s0*2 + 1 + s0"], 0, "3*s0 + 1\n", ""),
    (["expr", "floor((s0 + 127)/128)", "--bind", "s0=1000"], 0, "(s0 + 127)//128\n= 8\n", ""),
    (["expr", "-7 // 2"], 0, "-4\n= -4\n", ""),
    (["expr", "Max(s0, 1) % 8", "--cpp"], 0, "wg_mod(wg_max(1, s0), 8)\n", ""),
    (["solve", "2*s0 + 1", "size", "--for", "s0"], 0, "s0 = (size - 1)//2\n", ""),
    (["expr", "s0 // 0"], 1, "", "[wrapgraph.sym.division_by_zero]"),
    (["expr", "s0 +"], 1, "", "[wrapgraph.sym.parse.unexpected_end]"),
    (["expr", "x // y", "--bind", "x=1", "--bind", "y=0"], 1, "x//y\n", "[wrapgraph.sym.division_by_zero]"),
    (["solve", "s0*s0", "n", "--for", "s0"], 1, "", "[wrapgraph.sym.solve.nonlinear]"),
    (["expr", "s0", "--bind", "s0=abc"], 2, "", "not an int64"),
    (["frobnicate"], 2, "", "unknown command"),
    (["--help"], 0, None, ""),
    # run and check; stdout given as ("contains", text) is searched, not compared
    (["check", str(programs / "add.json")], 0, ("contains", "3 passed, 0 failed\n"), ""),
    (["check", str(programs / "add.json"), wrong_path], 1, ("contains", "FAILED"), ""),
    (["run", str(programs / "add.json"), "--bind", "s0=4", "--seed", "1"], 0,
     ("contains", "output: tensor(float32, size=[4], stride=[1]) ["), ""),
    (["run", str(programs / "topk.json"), "--repeat", "3", "--verbose"], 0, ("contains", "output 1: tensor(int64"), ""),
    (["run", str(programs / "add.json"), "--device", "tpu"], 2, "", "--device takes cpu"),
    (["run", str(programs / "add.json"), "--repeat", "0"], 2, "", "positive"),
    (["run", os.path.join(scratch, "missing.json")], 1, "", "[wrapgraph."),
    (["check"], 2, "", "check needs"),
    (["check", str(programs / "add.json"), "--graph"], 2, "", "--graph needs --device cuda"),
]
# Without a GPU (as in CI), the CUDA backend says why it cannot run.
if not shutil.which("nvidia-smi"):
    cases.append((["check", str(programs / "add.json"), "--device", "cuda"], 1, "", "[wrapgraph.cuda.unavailable]"))
passed = failed = 0
for args, status, out, err in cases:
    run = subprocess.run([tool, *args], capture_output=True, text=True, timeout=300, env=env)
    problems = []
    if run.returncode != status:
        problems.append(f"exit status {run.returncode}, expected {status}")
    if isinstance(out, tuple):
        if out[1] not in run.stdout:
            problems.append(f"stdout {run.stdout!r} lacks {out[1]!r}")
    elif out is not None and run.stdout != out:
        problems.append(f"stdout {run.stdout!r}, expected {out!r}")
    if err and err not in run.stderr:
        problems.append(f"stderr {run.stderr!r} lacks {err!r}")
    if problems:
        failed += 1
        print(f"FAIL: wrapgraph {' '.join(args)}: " + "; ".join(problems))
    else:
        passed += 1
help_text = subprocess.run([tool, "--help"], capture_output=True, text=True).stdout
for command in ["convert", "expr", "solve", "run", "check", "help"]:
    if f"\n  {command}" in help_text:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: --help does not document '{command}'")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
