#!/usr/bin/env python3
"""The printed Python of graphs is valid Python, and its dataflow is sound.

Runs PRINT_SAMPLES (tests/graph/print_samples.cpp) into a temporary
directory and checks every file it writes:
- ast.parse accepts it (the interpreter running this script is the judge:
  Meson runs it with /usr/bin/python3);
- in every `forward`, each name is bound (a parameter or an earlier
  assignment) before it is read, and never read after its `x = None`;
- no value is assigned twice;
- unless the file's name ends in `_nofree`, every value that a `forward`
  computes is either freed (`x = None`) or returned, as torch.fx frees
  dead values.

usage: check_python.py PRINT_SAMPLES
"""
import ast
import pathlib
import subprocess
import sys
import tempfile

GLOBALS = {"torch", "operator", "wrapgraph", "float", "getattr"}


def names_read(expr):
    return [n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


def check_forward(fn, frees):
    params = [a.arg for a in fn.args.args]
    bound, freed, computed = set(params), set(), set()
    problems = []
    for stmt in fn.body:
        line = f"line {stmt.lineno}"
        if isinstance(stmt, ast.Pass):
            continue
        value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Return)) else None
        if value is None and not isinstance(stmt, ast.Return):
            problems.append(f"{line}: unexpected {type(stmt).__name__}")
            continue
        for name in names_read(value) if value is not None else []:
            if name in freed:
                problems.append(f"{line}: reads {name} after it was freed")
            elif name not in bound and name not in GLOBALS:
                problems.append(f"{line}: reads {name}, which is not bound")
        if isinstance(stmt, ast.Return):
            returned = set(names_read(stmt.value)) if stmt.value is not None else set()
            if frees:
                for name in sorted(computed - freed - returned):
                    problems.append(f"{line}: {name} is neither freed nor returned")
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = []
        for t in targets:
            if not isinstance(t, ast.Name):
                problems.append(f"{line}: assigns to {ast.dump(t)}")
            else:
                names.append(t.id)
        if isinstance(value, ast.Constant) and value.value is None:
            for name in names:
                if name not in bound or name in freed:
                    problems.append(f"{line}: frees {name}, which is not live")
                freed.add(name)
        else:
            for name in names:
                if name in bound:
                    problems.append(f"{line}: assigns {name} twice")
                bound.add(name)
                computed.add(name)
    return problems


def main():
    exe = sys.argv[1]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, tmp], check=True, stdout=subprocess.DEVNULL)
        files = sorted(pathlib.Path(tmp).glob("*.py"))
        if not files:
            print("FAIL: the sample printer wrote no files")
            return 1
        for path in files:
            text = path.read_text()
            try:
                tree = ast.parse(text, filename=path.name)
            except SyntaxError as e:
                failed += 1
                print(f"FAIL: {path.name}: not valid Python: {e}\n{text}")
                continue
            frees = not path.stem.endswith("_nofree")
            forwards = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
            problems = [f"{fn.name} at line {fn.lineno}: {p}" for fn in forwards for p in check_forward(fn, frees)]
            if not forwards:
                problems.append("no forward function")
            if problems:
                failed += 1
                print(f"FAIL: {path.name}:\n  " + "\n  ".join(problems) + f"\n{text}")
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
