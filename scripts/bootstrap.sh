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
  pip_log=".venv/pip-install.log"
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" >"$pip_log" 2>&1; then
    tail -n 30 "$pip_log" >&2
    echo "error: installing reconciler[$extras] into .venv failed (full log: $pip_log)" >&2
    exit 1
  fi
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
