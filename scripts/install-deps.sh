#!/usr/bin/env bash
# Install the Debian packages matscreen needs to build, test and post-process.
# Idempotent and quiet: when every package is already installed it returns at once
# without touching apt. Run as root (or with sudo available).
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config
  # libraries
  libopenmpi-dev openmpi-bin libfftw3-dev libfftw3-mpi-dev petsc-dev
  libhdf5-openmpi-dev libyaml-dev libsymspg-dev libsqlite3-dev libopenblas-dev
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # inspection
  hdf5-tools sqlite3
  # Python post-processing, reference values and benchmark peers
  python3 python3-h5py python3-numpy python3-matplotlib python3-pymatgen python3-ase
  python3-spglib lammps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${#missing[@]} Debian package(s): ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
