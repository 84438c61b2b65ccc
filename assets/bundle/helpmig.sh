#!/bin/sh
# Runs helpmig from the virtual environment that install.sh created beside this script.
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
if [ ! -x "$here/venv/bin/python" ]; then
    echo "helpmig: not installed yet: run sh $here/install.sh first" >&2
    exit 2
fi
exec "$here/venv/bin/python" -m helpmig_tui "$@"
