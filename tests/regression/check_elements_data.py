"""Regression: inputs/elements.yaml must be exactly what scripts/gen_elements.py produces.

usage: check_elements_data.py SOURCE_ROOT

The element table is generated data; this test re-runs the generator into a temporary file and
compares byte for byte, so a hand edit of the data or a generator change without regenerating
fails here. Exit codes: 0 same, 1 different (a diff is printed), 77 skipped (pymatgen or ASE
missing, or a pymatgen or ASE version other than the one the file was generated from: their
data may differ).
"""
import difflib
import os
import subprocess
import sys
import tempfile


def package_line(text, key="package"):
    for line in text.splitlines():
        if line.startswith(f"  {key}:"):
            return line.split(":", 1)[1].strip()
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MATSCREEN_SOURCE_ROOT", ".")
    gen = os.path.join(root, "scripts", "gen_elements.py")
    data = os.path.join(root, "inputs", "elements.yaml")
    try:
        import pymatgen.core  # noqa: F401 - only checks that the generator can run
    except ImportError:
        print("SKIP: pymatgen is not importable by", sys.executable)
        return 77
    try:
        import ase.data  # noqa: F401 - the covalent radii come from ASE's table
    except ImportError:
        print("SKIP: ASE is not importable by", sys.executable)
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "elements.yaml")
        run = subprocess.run([sys.executable, gen, "-o", out], capture_output=True, text=True)
        sys.stderr.write(run.stderr)
        if run.returncode != 0:
            print(f"FAIL: {gen} exited with {run.returncode}")
            return 1
        with open(out, encoding="utf-8") as fh:
            fresh = fh.read()
    with open(data, encoding="utf-8") as fh:
        stored = fh.read()
    if fresh == stored:
        print(f"OK: {data} matches its generator ({len(stored)} bytes)")
        return 0
    for key in ("package", "covalent_radius"):
        if package_line(fresh, key) != package_line(stored, key):
            print(f"SKIP: {data} was generated from {package_line(stored, key)}, "
                  f"this system has {package_line(fresh, key)}")
            return 77
    diff = difflib.unified_diff(stored.splitlines(), fresh.splitlines(),
                                "inputs/elements.yaml (checked in)", "gen_elements.py output",
                                lineterm="", n=1)
    lines = list(diff)
    print("FAIL: inputs/elements.yaml differs from what scripts/gen_elements.py generates;")
    print("re-run: scripts/gen_elements.py -o inputs/elements.yaml")
    print("\n".join(lines[:60]))
    if len(lines) > 60:
        print(f"... ({len(lines) - 60} more diff lines)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
