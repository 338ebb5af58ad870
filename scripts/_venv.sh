# Shared by quickstart.sh and test.sh: create .venv with Python 3.11 and install the project.
# Usage: source scripts/_venv.sh "<pip extras, e.g. [local,remote,dev]>"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "error: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
echo "installing zenrl$1 into .venv (first time: a few minutes, TensorFlow is large)"
.venv/bin/python -m pip install --quiet --progress-bar off -e ".$1"
export ZENML_ANALYTICS_OPT_IN="${ZENML_ANALYTICS_OPT_IN:-false}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
