#!/usr/bin/env bash
# The two-model funnel example against M3GNet alone on the same candidates: relaxations and time
# saved, ground states lost (examples/two-model-funnel/README.md).
#   scripts/bench/two_model_funnel.sh [--bin build/matscreen] [--ranks 2] [--workdir DIR]
cd "$(dirname "$0")/../.." || exit 1
exec tests/util/python.sh scripts/bench/two_model_funnel.py "$@"
