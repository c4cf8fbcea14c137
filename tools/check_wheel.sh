#!/usr/bin/env bash
# Build the wheel with `python -m build`, install it into a fresh virtual environment (no
# editable install, no source tree on the path) and run `edxreview demo` there: the package
# data (knowledge tables, demo cohort, templates) must travel in the wheel.
# Usage: tools/check_wheel.sh [PYTHON]   (default: .venv/bin/python, which has `build`)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PY" -m build --wheel --outdir dist . >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log"; exit 1; }
rm -rf build
WHEEL="$(ls -t dist/edxreview-*-py3-none-any.whl | head -1)"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet "$WHEEL"
cd "$WORK"  # away from src/: only the installed wheel can be imported
"$WORK/venv/bin/edxreview" demo --out "$WORK/demo" --quiet
"$WORK/venv/bin/python" - "$WORK/demo/summary.json" <<'PY'
import json, sys
import edxreview
summary = json.load(open(sys.argv[1], encoding="utf-8"))
counts = [m["n"] for m in summary["measures"].values()]
assert "site-packages" in edxreview.__file__, edxreview.__file__
assert summary["n_patients"] == 59 and counts == [13, 7, 4, 2, 9, 4], (summary["n_patients"], counts)
print(f"wheel OK: edxreview {edxreview.__version__} from {edxreview.__file__}; demo {counts} of 59")
PY
