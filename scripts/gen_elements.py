#!/usr/bin/python3
"""Generate inputs/elements.yaml (element and ion data) from pymatgen's periodic table.

usage: scripts/gen_elements.py [-o OUTPUT] [--source JSON]

The data come from pymatgen/core/periodic_table.json as shipped by Debian's python3-pymatgen
(found through the installed module, or given with --source). The values there are taken by
pymatgen from the literature: Shannon radii from R. D. Shannon, Acta Cryst. A32, 751-767
(1976); electronegativities on the Pauling scale; molar volumes of the elemental solids from
WebElements (M. Winter, University of Sheffield), written here as atomic volumes in Å^3 per
atom. Covalent radii come from ASE's table (ase.data.covalent_radii, Debian's python3-ase),
which is B. Cordero et al., Dalton Trans. 2008, 2832-2838 (Z = 1..96; ASE's placeholder for
the others is written as null). We regenerate instead of editing by hand so that the
checked-in file can always be traced to its source; tests/regression re-runs this script and
compares.

Traps in the source handled here:
- "Ionic radii" in the JSON are Shannon *crystal* radii at CN VI; we do not use them and read
  "Shannon radii" instead, nested as ox -> CN roman numeral (with suffix "SQ" for square
  planar and "PY" for pyramidal) -> spin ("", "High Spin", "Low Spin")
  -> {crystal_radius, ionic_radius}.
- "X" (Pauling electronegativity) is missing for noble gases and superheavy elements; it is
  written as null rather than pymatgen's NaN.
- Oganesson's "Atomic mass" is 2949 in this version of the table, a typo for 294 (the mass
  number of 294Og, its only known isotope; IUPAC gives no standard atomic weight). Such
  errata are corrected through CORRECTIONS below and listed in the output's header.
- Some Shannon radii are negative (H+ CN I/II, C4+ III, N5+ III): they are tabulated that way
  in Shannon (1976) and are kept.
- "Molar volume" is text ("6.59 cm<sup>3</sup>", "no data cm<sup>3</sup>" or missing); it is
  converted with Avogadro's constant (CODATA 2018, exact): 1 cm^3/mol = 1e24 / 6.02214076e23
  Å^3 per atom, and rounded to 4 significant digits (the source has 3 or 4).

Output is deterministic: elements by Z, radii by (ox, CN, geometry, spin), floats in their
shortest round-trip form. The script prints the counts it wrote on stderr.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

ROMAN = {"I": 1, "V": 5, "X": 10}
SPIN = {"": "none", "High Spin": "high", "Low Spin": "low"}
SPIN_ORDER = {"none": 0, "high": 1, "low": 2}

# Known errors in the source: (symbol, key, value in the source, corrected value, reason).
# A correction applies only while the source still has the wrong value, so a fixed upstream
# table is used as is.
CORRECTIONS = [
    ("Og", "Atomic mass", 2949, 294.0,
     "mass number of 294Og, the only known isotope (source has 2949, a typo)"),
]


def roman_to_int(text):
    """Value of a roman numeral such as 'XII' (raises ValueError on anything else)."""
    if not text or any(ch not in ROMAN for ch in text):
        raise ValueError(f"not a roman numeral: {text!r}")
    total = 0
    for k, ch in enumerate(text):
        v = ROMAN[ch]
        if k + 1 < len(text) and ROMAN[text[k + 1]] > v:
            total -= v
        else:
            total += v
    return total


def parse_cn(text):
    """Shannon coordination label -> (cn, square_planar, pyramidal)."""
    sq = text.endswith("SQ")
    py = text.endswith("PY")
    core = text[:-2] if (sq or py) else text
    return roman_to_int(core), sq, py


def locate_source():
    try:
        import pymatgen.core
    except ImportError:
        sys.exit("gen_elements.py: pymatgen is not importable; install Debian's python3-pymatgen "
                 "and run this script with /usr/bin/python3 (or pass --source)")
    return os.path.join(os.path.dirname(pymatgen.core.__file__), "periodic_table.json")


AVOGADRO = 6.02214076e23  # 1/mol, exact (CODATA 2018)


def atomic_volume(text):
    """Å^3 per atom from pymatgen's "Molar volume" text, or None when it has no number."""
    if text is None:
        return None
    head = str(text).split()[0]
    try:
        cm3 = float(head)
    except ValueError:
        return None
    return float(f"{cm3 * 1e24 / AVOGADRO:.4g}")


def covalent_radii():
    """Cordero et al. (2008) covalent radii by Z from ASE, None where ASE has its placeholder."""
    try:
        from ase.data import covalent_radii as radii
    except ImportError:
        sys.exit("gen_elements.py: ASE is not importable; install Debian's python3-ase and run "
                 "this script with /usr/bin/python3")
    missing = float(radii[0])  # ASE stores its placeholder for unknown radii at index 0
    return {z: (None if float(radii[z]) == missing else float(radii[z]))
            for z in range(1, len(radii))}


def reference_structures():
    """Crystal structure of each element's standard state by Z from ASE's table
    (ase.data.reference_states, after Kittel and Ashcroft-Mermin): 'fcc', 'bcc', 'hcp',
    'diamond', 'diatom', ... or None where ASE has none."""
    from ase.data import reference_states
    return {z: (r or {}).get("symmetry") for z, r in enumerate(reference_states) if z > 0}


def ase_version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-ase"],
                             capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return "python3-ase " + out.stdout.strip()
    except OSError:
        pass
    import ase
    return "ase " + ase.__version__


def package_version():
    """Debian package version when dpkg knows it, else the Python distribution version."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-pymatgen"],
                             capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return "python3-pymatgen " + out.stdout.strip()
    except OSError:
        pass
    try:
        from importlib import metadata
        return "pymatgen " + metadata.version("pymatgen")
    except Exception:  # noqa: BLE001 - any failure means "unknown"
        return "pymatgen (version unknown)"


def fnum(x):
    """Shortest round-trip text of a float (ints in the JSON become '267.0')."""
    return repr(float(x))


def ylist(values):
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def quote(text):
    return json.dumps(text, ensure_ascii=False)


def build(src_path, version):
    with open(src_path, "rb") as fh:
        raw = fh.read()
    sha = hashlib.sha256(raw).hexdigest()
    table = json.loads(raw)

    elements = sorted(table.items(), key=lambda kv: kv[1]["Atomic no"])
    zs = [v["Atomic no"] for _, v in elements]
    if zs != list(range(1, len(zs) + 1)):
        sys.exit("gen_elements.py: atomic numbers in the source are not 1..N")

    applied = []
    for symbol, key, wrong, right, why in CORRECTIONS:
        if symbol in table and table[symbol].get(key) == wrong:
            table[symbol][key] = right
            applied.append(f"{symbol} {key} {wrong} -> {right}: {why}")

    cov = covalent_radii()
    struct = reference_structures()
    body = []
    n_radii = 0
    n_with_volume = 0
    n_with_cov = 0
    n_with_radii = 0
    n_with_x = 0
    for symbol, v in elements:
        x = v.get("X")
        if x is not None:
            n_with_x += 1
        radii = []
        for ox_text, by_cn in (v.get("Shannon radii") or {}).items():
            ox = int(ox_text)
            for cn_text, by_spin in by_cn.items():
                cn, sq, py = parse_cn(cn_text)
                for spin_text, r in by_spin.items():
                    spin = SPIN[spin_text]
                    radii.append((ox, cn, sq, py, SPIN_ORDER[spin], spin,
                                  r["ionic_radius"], r["crystal_radius"]))
        radii.sort(key=lambda t: t[:5])
        if radii:
            n_with_radii += 1
        n_radii += len(radii)

        body.append(f"  - symbol: {symbol}")
        body.append(f"    Z: {v['Atomic no']}")
        body.append(f"    name: {v['Name']}")
        body.append(f"    mass: {fnum(v['Atomic mass'])}")
        body.append(f"    electronegativity: {'null' if x is None else fnum(x)}")
        body.append(f"    common_oxidation_states: {ylist(v.get('Common oxidation states') or [])}")
        body.append(f"    oxidation_states: {ylist(v.get('Oxidation states') or [])}")
        vol = atomic_volume(v.get("Molar volume"))
        rc = cov.get(v["Atomic no"])
        n_with_volume += vol is not None
        n_with_cov += rc is not None
        body.append(f"    atomic_volume: {'null' if vol is None else fnum(vol)}")
        body.append(f"    covalent_radius: {'null' if rc is None else fnum(rc)}")
        rs = struct.get(v["Atomic no"])
        body.append(f"    structure: {'null' if rs is None else rs}")
        if not radii:
            body.append("    shannon_radii: []")
            continue
        body.append("    shannon_radii:")
        for ox, cn, sq, py, _, spin, ionic, crystal in radii:
            body.append(f"      - {{ox: {ox}, cn: {cn}, spin: {spin}, "
                        f"square_planar: {'true' if sq else 'false'}, "
                        f"pyramidal: {'true' if py else 'false'}, "
                        f"ionic: {fnum(ionic)}, crystal: {fnum(crystal)}}}")

    head = [
        "# Element and ion data read by matscreen (embedded into the program at build time).",
        "# GENERATED by scripts/gen_elements.py from pymatgen's periodic table; do not edit by",
        "# hand: change the generator and re-run it (tests/regression checks the two agree).",
        f"# Source: {version}, file pymatgen/core/periodic_table.json (sha256 {sha[:16]}...).",
        "# Shannon radii: R. D. Shannon, Acta Cryst. A32, 751-767 (1976), ionic and crystal",
        "# radii in Å by oxidation state, coordination number (cn; square_planar = Shannon's",
        "# 'SQ', pyramidal = 'PY') and spin. Electronegativity: Pauling scale (null where the",
        "# source has none). Masses in u (atomic mass units). atomic_volume: Å^3 per atom of",
        "# the elemental solid, from the molar volumes pymatgen takes from WebElements.",
        "# covalent_radius: Å, B. Cordero et al., Dalton Trans. 2008, 2832 (ASE's table).",
        "# structure: crystal structure of the element's standard state (ASE's",
        "# ase.data.reference_states: fcc, bcc, hcp, diamond, diatom, ...; null where none).",
        f"# Counts: {len(elements)} elements, {n_with_x} with an electronegativity, "
        f"{n_with_radii} with Shannon radii, {n_radii} radius entries, {n_with_volume} with an "
        f"atomic volume, {n_with_cov} with a covalent radius.",
    ]
    head += [f"# Correction: {c}." for c in applied]
    head += [
        "source:",
        f"  package: {quote(version)}",
        "  file: pymatgen/core/periodic_table.json",
        f"  sha256: {sha}",
        "  radii: \"R. D. Shannon, Acta Cryst. A32, 751-767 (1976)\"",
        "  electronegativity: \"Pauling scale (as tabulated in pymatgen)\"",
        "  atomic_volume: \"molar volumes of the elemental solids, WebElements (as tabulated in "
        "pymatgen)\"",
        f"  covalent_radius: \"B. Cordero et al., Dalton Trans. 2008, 2832-2838 (from "
        f"{ase_version()}, ase.data.covalent_radii)\"",
        f"  structure: \"standard-state crystal structures (from {ase_version()}, "
        f"ase.data.reference_states)\"",
        "  generator: scripts/gen_elements.py",
    ]
    if applied:
        head.append("  corrections:")
        head += [f"    - {quote(c)}" for c in applied]
    head += [
        "units: {mass: u, radius: angstrom, volume: angstrom^3}",
        f"counts: {{elements: {len(elements)}, with_radii: {n_with_radii}, radii: {n_radii}}}",
        "elements:",
    ]
    counts = {"elements": len(elements), "with_electronegativity": n_with_x,
              "with_radii": n_with_radii, "radii": n_radii}
    return "\n".join(head + body) + "\n", counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", help="output file (default: stdout)")
    ap.add_argument("--source", help="periodic_table.json (default: the installed pymatgen's)")
    args = ap.parse_args()
    src = args.source or locate_source()
    text, counts = build(src, package_version())
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    print("gen_elements.py: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
