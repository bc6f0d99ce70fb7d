#!/usr/bin/env bash
# The checked rules, as CI runs them before the tests: ruff (style and banned module-level
# imports), import-linter (the layers of docs/architecture.md) and mypy (protocols, widgets).
# Configuration: pyproject.toml ([tool.ruff], [tool.importlinter], [tool.mypy]).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
echo "ruff:" && "$PY" -m ruff check protocols desktop widgets tests benchmarks scripts installer
echo "import-linter:" && "$(dirname "$PY")/lint-imports" --no-cache
echo "mypy:" && "$PY" -m mypy
