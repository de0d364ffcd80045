#!/usr/bin/python3
"""Differential test of wrapgraph's sym module against sympy (Debian's
python3-sympy; run it with /usr/bin/python3).

    sympy_check.py PATH/TO/wrapgraph-symcheck [--quick]

(a) Evaluation: `symcheck random N SEED` prints random canonical expressions
    (sym::to_string), a binding of their symbols and wrapgraph's value there.
    Python reads each text with its own grammar (the ast module) into sympy,
    FloorDiv(a, b) and `a // b` as floor(a/b), CeilDiv(a, b) as ceiling(a/b),
    ModularIndexing(x, d, m) as Mod(floor(x/d), m), `%`, Mod and PythonMod
    as Mod, CleanDiv as an exact division. sympy's value at the binding
    (computed on sympy Integers) must equal wrapgraph's. For a share of the
    expressions the text is also read with symbols and substituted
    afterwards; where sympy's symbolic simplification disagrees with its own
    numbers (sympy bugs such as Mod(1, n) = 1 - n, sympy issue 27749) that is
    reported, not failed.

(b) Canonical forms: random pairs (t1, t2), t2 derived from t1 by
    value-preserving rewrites (reordering, re-association, + 0, * 1, splitting
    3*x into x + 2*x, distributing a constant, x*x for x**2, nested and
    duplicated Min/Max arguments, the function and operator spellings of one
    operation, ...). The pairs that sympy's automatic canonical form calls
    equal (sympify(t1) == sympify(t2), structurally) must parse to the same
    node in wrapgraph (`symcheck canon`).

Deterministic (fixed seeds). Prints a summary; exits 1 on any mismatch.
"""

import ast
import random
import subprocess
import sys
import time

import sympy

EVAL_COUNT = 3000         # expressions of (a)
EVAL_SEED = 20240611
SYMBOLIC_EVERY = 10       # every 10th of them is also read symbolically
PAIR_CANDIDATES = 3000    # pairs generated for (b), before sympy's filter
PAIR_SEED = 4242
SHOWN = 100               # failures printed per check


# ---- sympy's reading of the expression grammar ------------------------------

def symbol_for(name):
    """The test symbols' assumptions, from the first letter (random_expr.hpp):
    s: positive, u: nonnegative, z: any integer; other names positive."""
    if name.startswith("u"):
        return sympy.Symbol(name, integer=True, nonnegative=True)
    if name.startswith("z"):
        return sympy.Symbol(name, integer=True)
    return sympy.Symbol(name, integer=True, positive=True)


class InexactDivision(ArithmeticError):
    pass


class CleanDiv(sympy.Function):
    """a / b where b divides a; an integer pair that does not divide raises."""

    @classmethod
    def eval(cls, a, b):
        if a.is_Integer and b.is_Integer:
            if b == 0:
                raise ZeroDivisionError("CleanDiv by zero")
            if a % b != 0:
                raise InexactDivision(f"CleanDiv({a}, {b})")
            return sympy.Integer(a // b)
        return None


FUNCTIONS = {
    "FloorDiv": lambda a, b: sympy.floor(a / b),
    "CeilDiv": lambda a, b: sympy.ceiling(a / b),
    "CleanDiv": CleanDiv,
    "Mod": sympy.Mod,
    "PythonMod": sympy.Mod,
    "ModularIndexing": lambda x, d, m: sympy.Mod(sympy.floor(x / d), m),
    "Min": sympy.Min,
    "Max": sympy.Max,
    "Abs": sympy.Abs,
    "floor": sympy.floor,
    "ceiling": sympy.ceiling,
}

BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: sympy.floor(a / b),  # what sympy's Expr.__floordiv__ does
    ast.Mod: sympy.Mod,
    ast.Pow: lambda a, b: a ** b,
}


def to_sympy(text, names):
    """sympy's value of `text` (Python syntax); `names` maps identifiers to
    sympy objects (symbols or Integers). Literals are sympy Integers, so
    sympy, not Python's int, does every operation."""

    def build(node):
        if isinstance(node, ast.BinOp):
            return BINARY[type(node.op)](build(node.left), build(node.right))
        if isinstance(node, ast.UnaryOp):
            value = build(node.operand)
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return value
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return sympy.Integer(node.value)
        if isinstance(node, ast.Name):
            if node.id not in names:
                names[node.id] = symbol_for(node.id)
            return names[node.id]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return FUNCTIONS[node.func.id](*[build(a) for a in node.args])
        raise ValueError(f"not in the expression grammar: {ast.dump(node)}")

    return build(ast.parse(text, mode="eval").body)


def outcome(thunk):
    """An int, or the name of the failure."""
    try:
        value = thunk()
    except InexactDivision:
        return "inexact_division"
    except ZeroDivisionError:
        return "division_by_zero"
    except RecursionError:
        return "sympy failed: RecursionError"
    if value.is_Integer:
        return int(value)
    if value in (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return "division_by_zero"
    return f"not an integer: {value}"


# ---- (a) evaluation ---------------------------------------------------------

def check_evaluation(symcheck, count):
    lines = subprocess.run([symcheck, "random", str(count), str(EVAL_SEED)], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    failures, sympy_bugs = [], []
    compared = overflowed = inexact = symbolic = 0
    for i, line in enumerate(lines):
        text, binding, result = line.split("\t")
        values = {k: int(v) for k, v in (kv.split("=") for kv in binding.split())}
        numeric = outcome(lambda: to_sympy(text, {k: sympy.Integer(v) for k, v in values.items()}))
        if i % SYMBOLIC_EVERY == 0:
            symbolic += 1
            symbols = {}
            parsed = to_sympy(text, symbols)
            by_substitution = outcome(
                lambda: parsed.subs({symbols[k]: v for k, v in values.items() if k in symbols}))
            if by_substitution != numeric:
                sympy_bugs.append(f"{text}  at {binding}: sympy's symbolic form {parsed} gives "
                                  f"{by_substitution}, its numbers give {numeric}")
        if result == "error:wrapgraph.sym.overflow":
            overflowed += 1  # int64 overflow in wrapgraph; Python ints do not overflow
            continue
        expected = result[len("error:wrapgraph.sym."):] if result.startswith("error:") else int(result)
        if expected == "inexact_division":
            inexact += 1
        compared += 1
        if numeric != expected:
            failures.append(f"{text}  at {binding}: wrapgraph gives {result}, sympy gives {numeric}")
    print(f"(a) evaluation: {compared} of {len(lines)} expressions agree with sympy "
          f"({inexact} as inexact CleanDiv, {overflowed} skipped for int64 overflow); "
          f"{symbolic} also read symbolically, {len(sympy_bugs)} of those hit sympy's own "
          f"symbolic-evaluation bugs (not failures)")
    for s in sympy_bugs[:5]:
        print("    sympy bug:", s)
    return failures


# ---- (b) canonical forms ----------------------------------------------------
#
# A tree is a tuple (kind, ...): ("sym", name), ("int", v), ("add", [args]),
# ("mul", [args]), ("sub", a, b), ("neg", a), ("pow", a, k), ("min", [args]),
# ("max", [args]), ("abs", a), ("rounded", a, "floor" | "ceiling") of an
# integer a, and the divisions, each with the spelling it is
# written in: ("floordiv", a, b, "op" | "call" | "floor"),
# ("ceildiv", a, b, "call" | "ceiling"), ("mod", a, b, "op" | "Mod" | "PythonMod"),
# ("modind", x, d, m, "call" | "ops").

SYMBOLS = ["s0", "s1", "s2", "u0", "z0"]
POSITIVE = ["s0", "s1", "s2"]


def render(t):
    kind = t[0]
    if kind == "sym":
        return t[1]
    if kind == "int":
        return str(t[1]) if t[1] >= 0 else f"({t[1]})"
    if kind == "add":
        return "(" + " + ".join(render(a) for a in t[1]) + ")"
    if kind == "mul":
        return "(" + "*".join(render(a) for a in t[1]) + ")"
    if kind == "sub":
        return f"({render(t[1])} - {render(t[2])})"
    if kind == "neg":
        return f"(-{render(t[1])})"
    if kind == "pow":
        return f"({render(t[1])}**{t[2]})"
    if kind in ("min", "max"):
        return kind.capitalize() + "(" + ", ".join(render(a) for a in t[1]) + ")"
    if kind == "abs":
        return f"Abs({render(t[1])})"
    if kind == "rounded":
        return f"{t[2]}({render(t[1])})"
    if kind == "floordiv":
        a, b, style = render(t[1]), render(t[2]), t[3]
        return {"op": f"({a}//{b})", "call": f"FloorDiv({a}, {b})", "floor": f"floor({a}/{b})"}[style]
    if kind == "ceildiv":
        a, b, style = render(t[1]), render(t[2]), t[3]
        return {"call": f"CeilDiv({a}, {b})", "ceiling": f"ceiling({a}/{b})"}[style]
    if kind == "mod":
        a, b, style = render(t[1]), render(t[2]), t[3]
        return f"({a} % {b})" if style == "op" else f"{style}({a}, {b})"
    if kind == "modind":
        x, d, m = render(t[1]), render(t[2]), render(t[3])
        return f"ModularIndexing({x}, {d}, {m})" if t[4] == "call" else f"(({x}//{d}) % {m})"
    raise ValueError(kind)


class PairGenerator:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    # -- random trees --

    def leaf(self):
        if self.rng.random() < 0.6:
            return ("sym", self.rng.choice(SYMBOLS))
        return ("int", self.rng.randint(-6, 9))

    def divisor(self, depth):
        """Never zero: a nonzero constant or an expression of positive symbols >= 1."""
        r = self.rng.random()
        if r < 0.35:
            return ("int", self.rng.choice([1, 2, 3, 4, 5, 8, 16, 128, -2, -3]))
        if r < 0.7 or depth <= 0:
            return ("sym", self.rng.choice(POSITIVE))
        if r < 0.85:
            return ("add", [("sym", self.rng.choice(POSITIVE)), ("int", self.rng.randint(1, 9))])
        return ("mul", [("sym", self.rng.choice(POSITIVE)), ("sym", self.rng.choice(POSITIVE))])

    def tree(self, depth):
        rng = self.rng
        if depth <= 0 or rng.random() < 0.15:
            return self.leaf()
        d = depth - 1
        kind = rng.choice(["add", "add", "mul", "mul", "sub", "neg", "pow", "floordiv", "ceildiv",
                           "mod", "modind", "min", "max", "abs", "scaled"])
        if kind in ("add", "mul"):
            return (kind, [self.tree(d) for _ in range(rng.randint(2, 3))])
        if kind == "scaled":
            scaled = self.tree(d) if rng.random() < 0.5 else ("add", [self.tree(d - 1), self.tree(d - 1)])
            return ("mul", [("int", rng.choice([-3, -2, 2, 3, 4])), scaled])
        if kind == "sub":
            return ("sub", self.tree(d), self.tree(d))
        if kind == "neg":
            return ("neg", self.tree(d))
        if kind == "pow":
            return ("pow", self.tree(min(d, 1)), rng.randint(2, 3))
        if kind == "floordiv":
            return ("floordiv", self.tree(d), self.divisor(d), rng.choice(["op", "call", "floor"]))
        if kind == "ceildiv":
            return ("ceildiv", self.tree(d), self.divisor(d), rng.choice(["call", "ceiling"]))
        if kind == "mod":
            return ("mod", self.tree(d), self.divisor(d), rng.choice(["op", "Mod", "PythonMod"]))
        if kind == "modind":
            return ("modind", self.tree(d), self.divisor(d), self.divisor(d), rng.choice(["call", "ops"]))
        if kind in ("min", "max"):
            return (kind, [self.tree(d) for _ in range(rng.randint(2, 3))])
        return ("abs", self.tree(d))

    # -- value-preserving rewrites: each returns the rewritten node or None --

    def rewrite(self, name, t):
        rng = self.rng
        kind = t[0]
        if name == "commute" and kind in ("add", "mul", "min", "max") and len(t[1]) >= 2:
            args = list(t[1])
            rng.shuffle(args)
            return (kind, args)
        if name == "reassociate" and kind in ("add", "mul", "min", "max") and len(t[1]) >= 3:
            args = list(t[1])
            i = rng.randrange(len(args) - 1)
            return (kind, args[:i] + [(kind, args[i:i + 2])] + args[i + 2:])
        if name == "flatten" and kind in ("add", "mul", "min", "max"):
            args = []
            for a in t[1]:
                args.extend(a[1] if a[0] == kind else [a])
            return (kind, args) if len(args) != len(t[1]) else None
        if name == "plus_zero":
            return ("add", [t, ("int", 0)] if rng.random() < 0.5 else [("int", 0), t])
        if name == "times_one":
            return ("mul", [t, ("int", 1)] if rng.random() < 0.5 else [("int", 1), t])
        if name == "split_coefficient" and kind == "mul" and len(t[1]) == 2 and t[1][0][0] == "int":
            c, x = t[1][0][1], t[1][1]
            return ("add", [x, ("mul", [("int", c - 1), x])])
        if name == "distribute" and kind == "mul" and len(t[1]) == 2 and t[1][0][0] == "int" \
                and t[1][1][0] == "add":
            c = t[1][0]
            return ("add", [("mul", [c, a]) for a in t[1][1][1]])
        if name == "power_as_product" and kind == "pow":
            return ("mul", [t[1]] * t[2])
        if name == "duplicate_argument" and kind in ("min", "max"):
            args = list(t[1])
            args.insert(rng.randrange(len(args) + 1), rng.choice(args))
            return (kind, args)
        if name == "nest_arguments" and kind in ("min", "max") and len(t[1]) >= 2:
            args = list(t[1])
            i = rng.randrange(len(args) - 1)
            return (kind, args[:i] + [(kind, args[i:])])
        if name == "subtraction_as_sum" and kind == "sub":
            negated = ("neg", t[2]) if rng.random() < 0.5 else ("mul", [("int", -1), t[2]])
            return ("add", [t[1], negated])
        if name == "double_negation":
            return ("neg", ("neg", t))
        if name == "negate_sum" and kind == "neg" and t[1][0] == "add":
            return ("add", [("neg", a) for a in t[1][1]])
        if name == "split_constant" and kind == "int":
            a = rng.randint(-5, 5)
            return ("add", [("int", a), ("int", t[1] - a)])
        if name == "respell":
            if kind == "floordiv":
                return (kind, t[1], t[2], rng.choice(["op", "call", "floor"]))
            if kind == "ceildiv":
                return (kind, t[1], t[2], rng.choice(["call", "ceiling"]))
            if kind == "mod":
                return (kind, t[1], t[2], rng.choice(["op", "Mod", "PythonMod"]))
        if name == "twice_minus_once":
            return ("add", [("mul", [("int", 2), t]), ("mul", [("int", -1), t])])
        if name == "negate_inside" and kind == "add":
            return ("neg", ("add", [("neg", a) for a in t[1]]))
        if name == "dominated_constant" and kind in ("min", "max"):
            constants = [a[1] for a in t[1] if a[0] == "int"]
            if not constants:
                return None
            k = rng.randint(1, 5)
            extra = min(constants) + k if kind == "min" else max(constants) - k
            return (kind, list(t[1]) + [("int", extra)])
        if name == "factor_constant" and kind == "int" and t[1] not in (0, 1, -1):
            return ("mul", [("int", -1), ("int", -t[1])]) if rng.random() < 0.5 \
                else ("mul", [("int", 1), ("int", t[1])])
        if name == "round_integer":
            return ("rounded", t, rng.choice(["floor", "ceiling"]))
        if name == "divide_by_one":
            if rng.random() < 0.5:
                return ("floordiv", t, ("int", 1), rng.choice(["op", "call", "floor"]))
            return ("ceildiv", t, ("int", 1), rng.choice(["call", "ceiling"]))
        if name == "abs_of_nonnegative" and kind == "sym" and t[1] != "z0":
            return ("abs", t) if rng.random() < 0.5 else ("abs", ("neg", t))
        if name == "max_with_lower_bound" and kind == "sym" and t[1] != "z0":
            return ("max", [t, ("int", 0 if t[1] == "u0" else rng.choice([0, 1]))])
        if name == "add_multiple_of_divisor" and kind in ("floordiv", "mod"):
            # (a + k*b)//b - k = a//b and (a + k*b) % b = a % b
            k = rng.choice([-2, -1, 1, 2, 3])
            shifted = ("add", [t[1], ("mul", [("int", k), t[2]])])
            if kind == "mod":
                return ("mod", shifted, t[2], t[3])
            return ("add", [("floordiv", shifted, t[2], t[3]), ("int", -k)])
        if name == "modular_indexing_as_operators" and kind == "modind":
            return (kind, t[1], t[2], t[3], "ops" if t[4] == "call" else "call")
        return None

    REWRITES = ["commute", "reassociate", "flatten", "plus_zero", "times_one", "split_coefficient",
                "distribute", "power_as_product", "duplicate_argument", "nest_arguments",
                "subtraction_as_sum", "double_negation", "negate_sum", "split_constant", "respell",
                "twice_minus_once", "negate_inside", "dominated_constant", "factor_constant",
                "round_integer", "divide_by_one", "abs_of_nonnegative", "max_with_lower_bound",
                "add_multiple_of_divisor", "modular_indexing_as_operators"]

    def rewrite_somewhere(self, t, name):
        """t with the rewrite applied at one random node where it applies, or None."""
        nodes = []

        def walk(node, path):
            nodes.append(path)
            for i, child in enumerate(children(node)):
                walk(child, path + (i,))

        walk(t, ())
        self.rng.shuffle(nodes)
        for path in nodes:
            new = self.rewrite(name, get(t, path))
            if new is not None:
                return put(t, path, new)
        return None

    def pair(self):
        t1 = self.tree(3)
        t2, applied = t1, []
        for _ in range(self.rng.randint(1, 3)):
            name = self.rng.choice(self.REWRITES)
            rewritten = self.rewrite_somewhere(t2, name)
            if rewritten is not None:
                t2 = rewritten
                applied.append(name)
        return t1, t2, applied


def children(t):
    kind = t[0]
    if kind in ("add", "mul", "min", "max"):
        return list(t[1])
    if kind in ("sym", "int"):
        return []
    if kind == "pow":
        return [t[1]]
    return [c for c in t[1:] if isinstance(c, tuple)]


def get(t, path):
    for i in path:
        t = children(t)[i]
    return t


def put(t, path, new):
    if not path:
        return new
    i, rest = path[0], path[1:]
    kind = t[0]
    if kind in ("add", "mul", "min", "max"):
        args = list(t[1])
        args[i] = put(args[i], rest, new)
        return (kind, args)
    # The i-th tuple field after the kind.
    fields = list(t)
    positions = [k for k in range(1, len(fields)) if isinstance(fields[k], tuple)]
    k = positions[i]
    fields[k] = put(fields[k], rest, new)
    return tuple(fields)


def check_canonical_forms(symcheck, candidates):
    generator = PairGenerator(PAIR_SEED)
    kept, dropped, sympy_failed = [], 0, 0
    used = {}
    for _ in range(candidates):
        t1, t2, applied = generator.pair()
        if not applied:
            continue
        x1, x2 = render(t1), render(t2)
        try:
            equal = to_sympy(x1, {}) == to_sympy(x2, {})
        except RecursionError:  # sympy's assumption system loops on a few inputs
            sympy_failed += 1
            continue
        if not equal:
            dropped += 1
            continue
        kept.append((x1, x2, applied))
        for name in applied:
            used[name] = used.get(name, 0) + 1
    stdin = "".join(f"{x1}\t{x2}\n" for x1, x2, _ in kept)
    answers = subprocess.run([symcheck, "canon"], input=stdin, check=True, capture_output=True,
                             text=True).stdout.splitlines()
    assert len(answers) == len(kept), "symcheck canon answered a different number of lines"
    failures, failed_rewrites = [], {}
    for (x1, x2, applied), answer in zip(kept, answers):
        fields = answer.split("\t")
        if fields[0] == "same":
            continue
        for name in set(applied):
            failed_rewrites[name] = failed_rewrites.get(name, 0) + 1
        if fields[0] == "diff":
            failures.append(f"t1 = {x1}\n      t2 = {x2}\n      rewrites {applied}; sympy: both "
                            f"{to_sympy(x1, {})}; wrapgraph: {fields[1]}  vs  {fields[2]}")
        else:
            failures.append(f"t1 = {x1}\n      t2 = {x2}\n      rewrites {applied}; wrapgraph "
                            f"error {fields[1]}: {fields[2]}")
    print(f"(b) canonical forms: {len(kept) - len(failures)} of {len(kept)} pairs that sympy calls "
          f"equal are one node in wrapgraph ({dropped} generated pairs dropped as not "
          f"structurally equal in sympy, {sympy_failed} where sympy itself failed)")
    print("    rewrites used: " + ", ".join(f"{k} {v}" for k, v in sorted(used.items())))
    if failed_rewrites:
        print("    rewrites in failing pairs: " +
              ", ".join(f"{k} {v}" for k, v in sorted(failed_rewrites.items())))
    return failures


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    symcheck = sys.argv[1]
    quick = "--quick" in sys.argv[2:]
    start = time.monotonic()
    eval_failures = check_evaluation(symcheck, EVAL_COUNT // 10 if quick else EVAL_COUNT)
    middle = time.monotonic()
    canon_failures = check_canonical_forms(symcheck, PAIR_CANDIDATES // 10 if quick else PAIR_CANDIDATES)
    end = time.monotonic()
    print(f"time: evaluation {middle - start:.1f} s, canonical forms {end - middle:.1f} s")
    for title, failures in (("evaluation", eval_failures), ("canonical form", canon_failures)):
        if failures:
            print(f"\n{len(failures)} {title} mismatches; the first {min(SHOWN, len(failures))}:")
            for f in failures[:SHOWN]:
                print("  - " + f)
    return 1 if eval_failures or canon_failures else 0


if __name__ == "__main__":
    sys.exit(main())
