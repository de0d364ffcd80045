#!/usr/bin/env python3
"""Docs quote examples that run: every ```cpp block in docs/*.md and
README.md appears in a file under examples/ (line by line, indentation and
blank lines aside), and every ```text block right after it appears verbatim
in what some example prints. Declarations shown for reference, not run, are
```c++ blocks and are not checked.

usage: check_docs.py SOURCE_ROOT EXAMPLE_EXECUTABLE...
"""
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(sys.argv[1])
executables = sys.argv[2:]

def code_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def contains(haystack, needle):
    n = len(needle)
    return n > 0 and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


sources = [code_lines(p.read_text()) for p in sorted((root / "examples").rglob("*.cpp"))]
outputs = []
for exe in executables:
    run = subprocess.run([exe], capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        print(f"FAIL: example {exe} exited with {run.returncode}:\n{run.stderr}")
        sys.exit(1)
    outputs.append(run.stdout)

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
passed = failed = 0
for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
    if not doc.exists():
        continue
    text = doc.read_text()
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]
    for i, (lang, body, start, _) in enumerate(blocks):
        line = text.count("\n", 0, start) + 1
        where = f"{doc.relative_to(root)}:{line}"
        if lang == "cpp":
            if any(contains(source, code_lines(body)) for source in sources):
                passed += 1
            else:
                failed += 1
                print(f"FAIL: {where}: this C++ snippet is not in any file under examples/:\n{body}")
        elif lang == "text" and i > 0 and blocks[i - 1][0] == "cpp" and \
                text[blocks[i - 1][3]:start].strip() == "":
            if any(body in out for out in outputs):
                passed += 1
            else:
                failed += 1
                print(f"FAIL: {where}: no example prints this output:\n{body}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
