#!/usr/bin/env bash
# Set up .venv with the dev tools and run lint, format check, type check and the test suite.
# Slow tests (marked `slow`) run only with RUN_SLOW=1. Browser tests (marked `browser`, headless
# Chromium against a local ZenML dashboard) run only in CI (CI=true) or with RUN_BROWSER=1; then
# Debian's chromium and chromium-driver are installed first if missing. The remote-stack test
# (marked `remote`: stacks/airflow-local/up.sh brings up Airflow workers in containers, an S3
# store and a ZenML server, installing what is missing, and down.sh removes them) runs only in
# CI or with RUN_REMOTE=1.
source "$(dirname "$0")/_venv.sh" "[local,remote,dev]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
deselect=()
if [ "${RUN_SLOW:-0}" != "1" ]; then deselect+=("not slow"); fi
if [ "${CI:-}" = "true" ] || [ "${RUN_BROWSER:-0}" = "1" ]; then
  bash scripts/install_browser.sh
else
  deselect+=("not browser")
fi
if [ "${CI:-}" != "true" ] && [ "${RUN_REMOTE:-0}" != "1" ]; then deselect+=("not remote"); fi
markers=""
for expression in "${deselect[@]+"${deselect[@]}"}"; do
  markers="${markers:+$markers and }$expression"
done
exec .venv/bin/python -m pytest -m "$markers" "$@"
