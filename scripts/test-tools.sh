#!/usr/bin/env bash
# Installs the command-line tools the test suite reads its output with, when they are missing:
# poppler-utils (pdftotext, pdfinfo, pdftoppm) to read printed plans back as a person would, and
# curl, which the README's walkthrough and the contract scripts speak HTTP with.
# As root it uses Debian's packages; otherwise it says what to install. Idempotent.
set -euo pipefail
say() { printf 'test-tools: %s\n' "$*" >&2; }

missing=()
packages=()
for tool in pdftotext pdfinfo pdftoppm; do
  command -v "$tool" >/dev/null 2>&1 || { missing+=("$tool"); packages=(poppler-utils); }
done
command -v curl >/dev/null 2>&1 || { missing+=(curl); packages+=(curl); }
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing ${packages[*]} (for ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${packages[@]}" >&2
else
  say "missing ${missing[*]}: install them (Debian: apt-get install ${packages[*]})"
  exit 1
fi
