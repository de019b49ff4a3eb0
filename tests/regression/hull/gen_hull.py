"""Deterministic random entry sets for the convex-hull tests and benchmarks.

Pure Python with its own generator (SplitMix64, Steele, Lea & Flood, OOPSLA 2014), so a set is
the same on every machine and Python/numpy version: the stored pymatgen references stay valid
and check_hull.py verifies that with a SHA-256 of the regenerated CSV text.

A set over C elements has, for each element, 1-3 elemental entries (the lowest is the reference,
the others polymorphs above it), compounds of 2..C elements with integer amounts 1..6 and a
formation energy uniform in [-1.5, 0.3] eV/atom on top of the linear elemental energies
(elemental energies uniform in [-8, -1] eV/atom), and exact duplicates (same formula and
energy) plus rescaled formulas (Fe2O3 -> Fe4O6) of a few per cent of the compounds.
Energies are written with repr(), which reads back as the same double.
"""
import hashlib

MASK = (1 << 64) - 1
POOL = ["Li", "O", "Fe", "P", "Mn", "Na", "S", "Mg", "Al", "Si", "Ti", "Sr", "Ba", "Ca",
        "Co", "Ni", "Cu", "Zn", "N", "F", "Cl", "La", "Cr", "V", "K"]


class Rng:
    def __init__(self, seed):
        self.s = seed & MASK

    def u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self, a, b):
        return a + (b - a) * ((self.u64() >> 11) * (1.0 / (1 << 53)))

    def randint(self, lo, hi):  # inclusive
        return lo + self.u64() % (hi - lo + 1)

    def sample(self, seq, k):
        pool = list(seq)
        out = []
        for _ in range(k):
            out.append(pool.pop(self.randint(0, len(pool) - 1)))
        return out


def formula(amounts):
    """'Li2O' style text from [(element, int amount)], in the given order."""
    return "".join(el + (str(n) if n != 1 else "") for el, n in amounts)


def random_set(seed, ncomp, ncompounds, dup_frac=0.05, elements=None):
    """Rows (formula, energy_per_atom_eV, id) of one set."""
    r = Rng(seed)
    els = elements or r.sample(POOL, ncomp)
    e_el = {el: r.uniform(-8.0, -1.0) for el in els}
    rows = []
    for el in els:
        for p in range(r.randint(1, 3)):
            e = e_el[el] + (0.0 if p == 0 else r.uniform(0.0, 0.3))
            rows.append((el if el not in ("O", "N", "F", "Cl") else el + "2", e, f"{el}_{p}"))
    compounds = []
    for i in range(ncompounds):
        k = r.randint(2, ncomp) if ncomp > 1 else 1
        sub = r.sample(els, k)
        amounts = [(el, r.randint(1, 6)) for el in sub]
        natoms = sum(n for _, n in amounts)
        e = sum(n * e_el[el] for el, n in amounts) / natoms + r.uniform(-1.5, 0.3)
        compounds.append((amounts, e))
        rows.append((formula(amounts), e, f"c{i}"))
    ndup = int(dup_frac * ncompounds)
    for j in range(ndup):
        amounts, e = compounds[r.randint(0, len(compounds) - 1)]
        if j % 2 == 0:
            rows.append((formula(amounts), e, f"dup{j}"))
        else:
            m = r.randint(2, 3)
            rows.append((formula([(el, n * m) for el, n in amounts]), e, f"dup{j}"))
    return rows


def csv_text(rows, extra=None):
    """CSV with the header matscreen hull reads; extra: list of (name, values) columns."""
    head = "formula,energy_per_atom_eV,id"
    if extra:
        head += "," + ",".join(name for name, _ in extra)
    lines = [head]
    for i, (f, e, ident) in enumerate(rows):
        line = f"{f},{e!r},{ident}"
        if extra:
            line += "," + ",".join(str(vals[i]) for _, vals in extra)
        lines.append(line)
    return "\n".join(lines) + "\n"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


# Sets generated at test time (references stored in large_<name>.txt):
# name -> (seed, components, compounds)
LARGE = {
    "q4_10000": (404, 4, 10000),
    "p5_3000": (505, 5, 3000),
}


def large_rows(name):
    seed, ncomp, nc = LARGE[name]
    return random_set(seed, ncomp, nc)
