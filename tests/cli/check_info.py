"""CLI test of `matscreen info`: text and JSON output, and usage errors.

usage: check_info.py MATSCREEN_BIN [MPIEXEC]

Values are checked against physics.md §4.1 (Shannon 1976 and Pauling values as quoted there)
and IUPAC atomic weights, not against our own output. With MPIEXEC, the same commands run on
two ranks must print once and exit with the same code.
"""
import json
import subprocess
import sys

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def run(cmd, *args):
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    exe = [sys.argv[1]]
    mpi = sys.argv[2] if len(sys.argv) > 2 else None

    rc, out, err = run(exe, "info")
    check(rc == 0, f"'info' exit {rc}: {err}")
    check("elements" in out and "species" in out, f"'info' lists topics: {out!r}")

    rc, out, err = run(exe, "info", "elements")
    check(rc == 0, f"'info elements' exit {rc}: {err}")
    rows = [l.split() for l in out.splitlines() if l.strip() and not l.startswith(("#", "  Z"))]
    check(len(rows) == 118, f"'info elements' prints 118 rows, got {len(rows)}")
    ti = [r for r in rows if r[1] == "Ti"]
    check(ti and ti[0][0] == "22" and abs(float(ti[0][3]) - 47.867) < 1e-3
          and ti[0][4] == "1.54" and ti[0][5:] == ["+4"], f"Ti row: {ti}")
    he = [r for r in rows if r[1] == "He"]
    check(he and he[0][4] == "-", f"He has no electronegativity: {he}")

    rc, out, err = run(exe, "info", "species", "Ti4+", "O2-")
    check(rc == 0, f"'info species Ti4+ O2-' exit {rc}: {err}")
    rows = [l.split() for l in out.splitlines() if l.strip() and not l.startswith(("#", "ion"))]
    check(["Ti4+", "6", "VI", "-", "0.605", "0.745"] in rows, f"Ti4+ VI row missing: {rows}")
    check(["O2-", "6", "VI", "-", "1.400", "1.260"] in rows, f"O2- VI row missing: {rows}")
    check({r[0] for r in rows} == {"Ti4+", "O2-"}, f"only the two ions: {rows}")

    rc, out, err = run(exe, "info", "--json", "species", "Ti4+", "O2-", "Fe2+")
    check(rc == 0, f"'info --json species' exit {rc}: {err}")
    try:
        doc = json.loads(out)
    except ValueError as exc:
        check(False, f"species --json is not JSON ({exc}): {out[:200]!r}")
        doc = {"species": []}
    sp = {s["species"]: s for s in doc["species"]}
    check(list(sp) == ["Ti4+", "O2-", "Fe2+"], f"species order: {list(sp)}")
    if "Ti4+" in sp:
        vi = [r for r in sp["Ti4+"]["radii"] if r["cn"] == 6]
        check(len(vi) == 1 and vi[0]["ionic_radius_A"] == 0.605
              and vi[0]["crystal_radius_A"] == 0.745, f"Ti4+ VI: {vi}")
    if "Fe2+" in sp:
        vi = {r["spin"]: r["ionic_radius_A"] for r in sp["Fe2+"]["radii"] if r["cn"] == 6}
        check(vi == {"high": 0.78, "low": 0.61}, f"Fe2+ VI spins: {vi}")
    check("Shannon" in doc.get("source", ""), "JSON names its source")

    rc, out, err = run(exe, "info", "elements", "--json")
    check(rc == 0, f"'info elements --json' exit {rc}: {err}")
    try:
        els = {e["symbol"]: e for e in json.loads(out)["elements"]}
    except ValueError as exc:
        check(False, f"elements --json is not JSON ({exc})")
        els = {}
    check(len(els) == 118, f"118 elements in JSON, got {len(els)}")
    if els:
        check(els["O"]["electronegativity_pauling"] == 3.44, f"O: {els['O']}")
        check(els["F"]["electronegativity_pauling"] == 3.98, f"F: {els['F']}")
        check(els["He"]["electronegativity_pauling"] is None, f"He: {els['He']}")
        check(els["O"]["common_oxidation_states"] == [-2], f"O: {els['O']}")

    rc, out, err = run(exe, "info", "elemnts")
    check(rc == 1, f"unknown topic exits 1, got {rc}")
    check("did you mean 'elements'" in err and "elements, species" in err,
          f"unknown topic message: {err!r}")
    check(out == "", f"nothing on stdout for a usage error: {out!r}")

    rc, out, err = run(exe, "info", "species", "Ti5+")
    check(rc == 1 and "Ti5+" in err, f"untabulated ion: exit {rc}, {err!r}")
    rc, out, err = run(exe, "info", "species", "Xx2+")
    check(rc == 1 and "Xx2+" in err, f"unknown element: exit {rc}, {err!r}")
    rc, out, err = run(exe, "info", "--bogus")
    check(rc == 1, f"unknown option exits 1, got {rc}")

    if mpi:
        par = [mpi, "-n", "2"] + exe
        rc, out, err = run(par, "info", "species", "Ti4+")
        check(rc == 0, f"2 ranks: exit {rc}: {err}")
        check(out.count("Ti4+") == 4 and out.count("# source") == 1,
              f"2 ranks print once: {out!r}")
        rc, out, err = run(par, "info", "elemnts")
        check(rc == 1, f"2 ranks: unknown topic exits 1, got {rc}")
        check(err.count("unknown topic") == 1, f"2 ranks: message once: {err!r}")
        rc, out, err = run(par, "info", "species", "Ti5+")
        check(rc == 1 and err.count("Ti5+") == 1, f"2 ranks: bad ion once: {rc} {err!r}")

    print(f"check_info: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
