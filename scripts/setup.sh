#!/usr/bin/env bash
# Create the virtual environment and install Condenser with every extra. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
# A local CPU wheel of torch lies in /opt/wheels on our machines; an unpinned torch would pull CUDA (GBs).
FIND=()
[ -d /opt/wheels ] && FIND=(--find-links /opt/wheels)

if ! "$VENV/bin/python" -c "import torch,sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  echo "==> installing torch 2.13.0 (CPU)"
  "${PIP[@]}" install "${FIND[@]}" "torch==2.13.0"
fi
echo "==> installing condenser[models,fast,api,langchain,llamaindex,litellm,evals,llmlingua,otel,dev]"
"${PIP[@]}" install "${FIND[@]}" -e ".[models,fast,api,langchain,llamaindex,litellm,evals,llmlingua,otel,dev]"
echo "==> setup done"
