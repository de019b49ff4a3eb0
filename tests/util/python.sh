#!/usr/bin/env bash
# Run a Python script with an interpreter that has the Debian scientific stack (h5py, numpy,
# pymatgen, ase). The python3 first on PATH may be a different build without them.
for py in /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy, h5py' >/dev/null 2>&1; then
    exec "$py" "$@"
  fi
done
echo "python.sh: no Python 3 with numpy and h5py found (run scripts/install-deps.sh)" >&2
exit 77
