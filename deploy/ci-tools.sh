#!/usr/bin/env bash
# Installs the checkers the deployment tests use, outside walstream's own venv, and prints the
# path of the requested tool:
#
#   deploy/ci-tools.sh checkov     -> .venv-tools/bin/checkov (a separate venv, see below)
#   deploy/ci-tools.sh promtool    -> promtool (Debian package "prometheus", via apt-get when root)
#
# Why a separate venv for checkov: it pins older boto3/botocore, networkx and packaging than
# walstream uses, and its HCL parser (bc-python-hcl2) installs the same `hcl2` module name as
# python-hcl2. Installed into .venv it would downgrade walstream's dependencies.
# Re-runs are cheap: the venv is reused while this script is unchanged.
# Exits non-zero (with the reason on stderr) when the tool cannot be installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
tool="${1:-checkov}"

case "$tool" in
  checkov)
    PYTHON="${PYTHON:-python3}"
    spec="${CHECKOV_SPEC:-checkov>=3.2,<4}"
    venv=.venv-tools
    stamp="$venv/.installed"
    if [ ! -x "$venv/bin/python" ]; then
      "$PYTHON" -m venv "$venv" >&2
      # Keep the tool venv out of git without touching the repository's .gitignore.
      printf '*\n' >"$venv/.gitignore"
    fi
    if [ ! -f "$stamp" ] || [ deploy/ci-tools.sh -nt "$stamp" ]; then
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" >&2
      touch "$stamp"
    fi
    echo "$PWD/$venv/bin/checkov"
    ;;
  promtool)
    if ! command -v promtool >/dev/null 2>&1; then
      if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "promtool is missing and cannot be installed here (needs root and apt-get)" >&2
        exit 1
      fi
      export DEBIAN_FRONTEND=noninteractive
      if ! apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1
        apt-get install -y -qq --no-install-recommends prometheus >&2
      fi
    fi
    command -v promtool
    ;;
  *)
    echo "usage: deploy/ci-tools.sh checkov|promtool" >&2
    exit 2
    ;;
esac
