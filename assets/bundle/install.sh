#!/bin/sh
# Installs helpmig {{version}} from this folder without the internet: a virtual
# environment in venv/ beside this script, filled from wheels/ (hashes checked).
# PYTHON=/path/to/python3.X chooses the interpreter.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
python=${PYTHON:-}
if [ -z "$python" ]; then
    for version in {{pythons_newest_first}}; do
        for candidate in "python$version" python3; do
            if command -v "$candidate" >/dev/null 2>&1 &&
                "$candidate" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$version' else 1)"; then
                python=$candidate
                break 2
            fi
        done
    done
fi
if [ -z "$python" ]; then
    echo "helpmig: no Python {{pythons}} found; install one, or set PYTHON=/path/to/python3.X" >&2
    exit 2
fi
echo "Creating the virtual environment $here/venv with $python ..."
"$python" -m venv "$here/venv"
# No index, no network, no pip configuration of this machine: only the wheels beside this script.
PIP_CONFIG_FILE=/dev/null "$here/venv/bin/python" -m pip install --isolated --no-index \
    --find-links "$here/wheels" --require-hashes --no-warn-script-location --disable-pip-version-check \
    -r "$here/requirements.txt"
echo "helpmig {{version}} is installed. Run $here/helpmig.sh (or $here/venv/bin/helpmig)."
