#!/bin/bash
# docker-py 7.1 (the pyenv python3 on PATH) against a real machined: runs docker-py.py.
. "$(dirname "$0")/lib-engine.sh"
if ! python3 -c 'import docker' 2>/dev/null; then
    echo "1..0 # SKIP docker-py is not importable by python3 ($(command -v python3))"
    exit 77
fi
start_machined
make_image bb
python3 "$(dirname "$0")/docker-py.py"
