#!/usr/bin/env python3
"""`wrapgraph convert --emit python` prints valid Python for every program of
tests/programs/convert, and every --emit form works.

usage: check_python.py WRAPGRAPH_EXECUTABLE PROGRAMS_DIR
"""
import ast
import json
import pathlib
import subprocess
import sys

tool, programs = sys.argv[1], pathlib.Path(sys.argv[2])
passed = failed = 0
for program in sorted((programs / "convert").glob("*.json")):
    for emit in ["python", "text", "dot", "json"]:
        run = subprocess.run([tool, "convert", str(program), "--emit", emit], capture_output=True, text=True)
        problem = None
        if run.returncode != 0:
            problem = f"exit status {run.returncode}: {run.stderr.strip()}"
        elif emit == "python":
            try:
                ast.parse(run.stdout)
            except SyntaxError as e:
                problem = f"not valid Python: {e}"
        elif emit == "json":
            graph = json.loads(run.stdout)
            if graph.get("format") != "wrapgraph-graph/1":
                problem = "the JSON does not say format wrapgraph-graph/1"
        elif emit == "dot" and not run.stdout.lstrip().startswith("digraph"):
            problem = "not a Graphviz digraph"
        if problem:
            failed += 1
            print(f"FAIL: {program.name} --emit {emit}: {problem}")
        else:
            passed += 1
bad = subprocess.run([tool, "convert", str(programs / "malformed" / "c02-use-after-free.json")],
                     capture_output=True, text=True)
if bad.returncode == 1 and "[wrapgraph.program.use_after_free]" in bad.stderr and not bad.stdout:
    passed += 1
else:
    failed += 1
    print(f"FAIL: a malformed program: exit {bad.returncode}, stderr {bad.stderr!r}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
