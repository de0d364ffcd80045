#!/usr/bin/env bash
# Builds tests/consumer against this repository as a subproject and checks
# what it prints. Arguments: the repository root, a scratch folder, meson.
set -euo pipefail
root=$1 scratch=$2 meson=${3:-meson}
rm -rf "$scratch"
mkdir -p "$scratch/src/subprojects"
cp "$root/tests/consumer/meson.build" "$root/tests/consumer/main.cpp" "$scratch/src/"
ln -s "$root" "$scratch/src/subprojects/wrapgraph"
"$meson" setup "$scratch/build" "$scratch/src" >"$scratch/setup.log" 2>&1 || { cat "$scratch/setup.log"; exit 1; }
grep -Eq "tests *: (NO|False)" "$scratch/setup.log" || { echo "tests were not turned off inside the subproject"; cat "$scratch/setup.log"; exit 1; }
"$meson" compile -C "$scratch/build" >"$scratch/compile.log" 2>&1 || { cat "$scratch/compile.log"; exit 1; }
out=$("$scratch/build/consumer")
echo "$out"
expected='strides [8, 1]
s0 = (n - 1)//2
at s0 = 3: 56'
if [ "$out" != "$expected" ]; then
  echo "unexpected output; expected:"; echo "$expected"; exit 1
fi
echo "consumer built and ran against the wrapgraph subproject"
