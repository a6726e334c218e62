#!/usr/bin/env bash
# Installs what the Django peer of scripts/bench needs: Debian's
# redis-server, and .venv-django from bench/django/requirements.txt (apart
# from .venv, whose pins are requirements-test.txt's). Safe to run again: it
# skips what is there and refreshes the venv when the requirements changed.
# Prints only to stderr: scripts/bench's stdout is its figures.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '== %s\n' "$*" >&2; }

if ! command -v redis-server >/dev/null; then
  say "installing redis-server (Debian)"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Through env: sudo's env_reset would drop a variable set before it.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

requirements=bench/django/requirements.txt
if ! [ -x .venv-django/bin/python ] || ! cmp -s "$requirements" .venv-django/.requirements-installed; then
  say "Django peer into .venv-django ($requirements)"
  python3 -m venv .venv-django
  .venv-django/bin/pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" .venv-django/.requirements-installed
fi
