#!/usr/bin/env bash
# Makes the project's Python virtual environment (.local/venv) with the pinned test tools from
# PyPI (tests/tools/requirements.txt), once; prints the venv's bin folder. As root on Debian it
# installs python3-venv when the venv module is missing. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.local/venv
req=$root/tests/tools/requirements.txt
say() { printf 'python-tools: %s\n' "$*" >&2; }

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq python3 python3-venv >&2
  else
    say "python3 with venv is needed (Debian: apt-get install python3-venv)"
    exit 1
  fi
fi
stamp=$venv/.requirements
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$stamp"; then
  say "installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  cp "$req" "$stamp"
fi
echo "$venv/bin"
