#!/usr/bin/env bash
# Installs the command-line tools the test suite reads its output with, when they are missing:
# poppler-utils (pdftotext, pdfinfo, pdftoppm) to read printed plans back as a person would.
# As root it uses Debian's packages; otherwise it says what to install. Idempotent.
set -euo pipefail
say() { printf 'test-tools: %s\n' "$*" >&2; }

missing=()
for tool in pdftotext pdfinfo pdftoppm; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing poppler-utils (for ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq poppler-utils >&2
else
  say "missing ${missing[*]}: install poppler-utils (Debian: apt-get install poppler-utils)"
  exit 1
fi
