#!/usr/bin/env python3
"""The wrapgraph command: output, errors on stderr, exit statuses.

usage: check_cli.py WRAPGRAPH_EXECUTABLE
"""
import subprocess
import sys

tool = sys.argv[1]
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
]
passed = failed = 0
for args, status, out, err in cases:
    run = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
    problems = []
    if run.returncode != status:
        problems.append(f"exit status {run.returncode}, expected {status}")
    if out is not None and run.stdout != out:
        problems.append(f"stdout {run.stdout!r}, expected {out!r}")
    if err and err not in run.stderr:
        problems.append(f"stderr {run.stderr!r} lacks {err!r}")
    if problems:
        failed += 1
        print(f"FAIL: wrapgraph {' '.join(args)}: " + "; ".join(problems))
    else:
        passed += 1
help_text = subprocess.run([tool, "--help"], capture_output=True, text=True).stdout
for command in ["expr", "solve", "help"]:
    if f"\n  {command}" in help_text:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: --help does not document '{command}'")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
