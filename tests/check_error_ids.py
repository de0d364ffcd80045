#!/usr/bin/env python3
"""Every error id thrown under include/ is listed in docs/errors.md, and
docs/errors.md lists no id that the code no longer throws.

usage: check_error_ids.py SOURCE_ROOT
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
# Ids have an area and a name (wrapgraph.sym.overflow); one dot names a
# graph target such as "wrapgraph.kernel_call", not an id.
ID = re.compile(r'"(wrapgraph(?:\.[a-z0-9_]+){2,})"')
used = {}
for header in sorted((root / "include").rglob("*.hpp")):
    for m in ID.finditer(header.read_text()):
        used.setdefault(m.group(1), header.relative_to(root))
# An id is documented by a table row that starts with it.
documented = set(re.findall(r"^\| `(wrapgraph(?:\.[a-z0-9_]+)+)`", (root / "docs" / "errors.md").read_text(), re.M))
passed = failed = 0
for error_id, where in sorted(used.items()):
    if error_id in documented:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {error_id} (thrown in {where}) is missing from docs/errors.md")
for error_id in sorted(documented - set(used)):
    failed += 1
    print(f"FAIL: docs/errors.md lists {error_id}, which nothing throws")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
