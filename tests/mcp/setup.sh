#!/usr/bin/env bash
# Installs the official MCP Python SDK (PyPI `mcp`) used by client_test.py, idempotently.
set -euo pipefail
PY="${PYTHON:-python3}"
if "$PY" -c "import mcp.client.stdio" >/dev/null 2>&1; then
  exit 0
fi
"$PY" -m pip install --quiet --disable-pip-version-check "mcp>=1.2" \
  || "$PY" -m pip install --quiet --disable-pip-version-check --break-system-packages "mcp>=1.2"
