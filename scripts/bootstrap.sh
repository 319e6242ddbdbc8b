# Sourced by the other scripts: make .venv (inside the repo) hold reconciler and
# the extras asked for, reinstalling only when pyproject.toml changed.
# Usage: . scripts/bootstrap.sh EXTRAS   (e.g. "emulator" or "emulator,test")
extras="$1"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv >/dev/null || { echo "error: could not create .venv with $python (Python 3.11+ with venv needed)" >&2; exit 1; }
fi
stamp=".venv/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)-${extras//,/-}"
if [ ! -f "$stamp" ]; then
  echo "Installing reconciler[$extras] into .venv ..." >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" 2>&1 | grep -v -e '^WARNING: Location' -e 'BuildBackendWarning' >&2 || true
  .venv/bin/python -c "import reconciler" || { echo "error: installing reconciler into .venv failed" >&2; exit 1; }
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
