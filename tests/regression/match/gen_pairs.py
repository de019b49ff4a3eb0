"""Deterministic structure pairs for the StructureMatcher regression test and benchmarks.

Pure Python with its own generator (SplitMix64), so the pairs are the same on every machine;
check_match.py verifies that with a SHA-256 of the coordinates rounded to 1e-6 before using the
stored pymatgen verdicts.

A structure is (lattice rows in Å, species labels with oxidation states, fractional
coordinates). Bases are textbook prototypes (rock salt, CsCl, perovskite, rutile, fluorite,
zinc blende, wurtzite) and random low-symmetry structures (2-12 atoms,
random lattice, minimum distance 1.6 Å). Each pair is a base and a transformed copy; the kinds:

  translate, permute, rotate, basis   exact symmetry-equivalent copies
  supercell                           integer supercells of determinant 2-4
  combined                            rotation + basis change + translation + permutation + supercell
  strain                              symmetric strain, entries up to 1-8 %
  rattle                              Gaussian displacements, sigma 0.01-0.05 Å
  mirror                              inversion (mirror image) plus a basis change
  near_noise                          displacements with sigma 0.05-0.35 (V/N)^(1/3) (around stol)
  near_strain                         strains of 10-30 % (around ltol)
  near_shear                          shears of 3-8 degrees (around angle_tol)
  other                               a different random structure of the same composition
  species                             the same positions with two species' labels swapped or
                                      an oxidation state changed (elements-only match)
  supercell_noise                     supercell, basis change and 0.005-0.03 Å rattle
"""
import hashlib
import math

MASK = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.s = seed & MASK

    def u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self, a=0.0, b=1.0):
        return a + (b - a) * ((self.u64() >> 11) * (1.0 / (1 << 53)))

    def randint(self, lo, hi):
        return lo + self.u64() % (hi - lo + 1)

    def choice(self, seq):
        return seq[self.randint(0, len(seq) - 1)]

    def gauss(self):
        u1 = self.uniform()
        while u1 <= 0.0:
            u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def shuffle(self, seq):
        seq = list(seq)
        for i in range(len(seq) - 1, 0, -1):
            j = self.randint(0, i)
            seq[i], seq[j] = seq[j], seq[i]
        return seq


# ---- small linear algebra on lists --------------------------------------------------------

def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def det(m):
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def inv(m):
    d = det(m)
    return [[(m[1][1] * m[2][2] - m[1][2] * m[2][1]) / d, (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / d,
             (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / d],
            [(m[1][2] * m[2][0] - m[1][0] * m[2][2]) / d, (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / d,
             (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / d],
            [(m[1][0] * m[2][1] - m[1][1] * m[2][0]) / d, (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / d,
             (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / d]]


def vecmat(v, m):
    return [sum(v[k] * m[k][j] for k in range(3)) for j in range(3)]


def from_parameters(a, b, c, al, be, ga):
    al, be, ga = (math.radians(x) for x in (al, be, ga))
    cx = c * math.cos(be)
    cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
    cz2 = c * c - cx * cx - cy * cy
    if cz2 <= 0.01 * c * c:
        return None
    return [[a, 0.0, 0.0], [b * math.cos(ga), b * math.sin(ga), 0.0], [cx, cy, math.sqrt(cz2)]]


class S:
    def __init__(self, lattice, species, frac, name=""):
        self.lattice = [list(r) for r in lattice]
        self.species = list(species)
        self.frac = [list(f) for f in frac]
        self.name = name

    def copy(self):
        return S(self.lattice, self.species, self.frac, self.name)

    def volume(self):
        return abs(det(self.lattice))


# ---- prototypes ------------------------------------------------------------------------------

def cubic(a):
    return [[a, 0, 0], [0, a, 0], [0, 0, a]]


def fcc_prim(a):
    h = a / 2
    return [[0, h, h], [h, 0, h], [h, h, 0]]


def prototypes():
    p = []
    p.append(S(fcc_prim(4.21), ["Mg2+", "O2-"], [[0, 0, 0], [0.5, 0.5, 0.5]], "rocksalt MgO"))
    p.append(S(cubic(5.64), ["Na+"] * 4 + ["Cl-"] * 4,
               [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]],
               "rocksalt NaCl conventional"))
    p.append(S(cubic(4.11), ["Cs+", "Cl-"], [[0, 0, 0], [.5, .5, .5]], "CsCl"))
    p.append(S(cubic(3.905), ["Sr2+", "Ti4+", "O2-", "O2-", "O2-"],
               [[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]], "perovskite SrTiO3"))
    a, c, u = 4.594, 2.959, 0.3048
    p.append(S([[a, 0, 0], [0, a, 0], [0, 0, c]], ["Ti4+", "Ti4+", "O2-", "O2-", "O2-", "O2-"],
               [[0, 0, 0], [.5, .5, .5], [u, u, 0], [-u, -u, 0], [.5 + u, .5 - u, .5], [.5 - u, .5 + u, .5]],
               "rutile TiO2"))
    p.append(S(fcc_prim(5.46), ["Ca2+", "F-", "F-"], [[0, 0, 0], [.25, .25, .25], [.75, .75, .75]], "fluorite CaF2"))
    p.append(S(fcc_prim(5.41), ["Zn2+", "S2-"], [[0, 0, 0], [.25, .25, .25]], "zinc blende ZnS"))
    a, c, u = 3.25, 5.21, 0.382
    hexl = [[a, 0, 0], [-a / 2, a * math.sqrt(3) / 2, 0], [0, 0, c]]
    p.append(S(hexl, ["Zn2+", "Zn2+", "O2-", "O2-"],
               [[1 / 3, 2 / 3, 0], [2 / 3, 1 / 3, .5], [1 / 3, 2 / 3, u], [2 / 3, 1 / 3, .5 + u]], "wurtzite ZnO"))
    return p


def random_structure(r, comp, name):
    """comp: list of (species, count). Random lattice and positions, min distance 1.6 Å."""
    n = sum(c for _, c in comp)
    while True:
        vol = n * r.uniform(9.0, 16.0)
        angles = [r.uniform(65, 115) for _ in range(3)]
        ratios = [r.uniform(0.7, 1.4) for _ in range(3)]
        lat = from_parameters(*ratios, *angles)
        if lat is None:
            continue
        s = (vol / abs(det(lat))) ** (1 / 3)
        lat = [[x * s for x in row] for row in lat]
        species, frac = [], []
        ok = True
        for sp, cnt in comp:
            for _ in range(cnt):
                for attempt in range(200):
                    f = [r.uniform(), r.uniform(), r.uniform()]
                    if all(min_dist(lat, f, g) > 1.6 for g in frac):
                        break
                else:
                    ok = False
                    break
                species.append(sp)
                frac.append(f)
            if not ok:
                break
        if ok:
            return S(lat, species, frac, name)


def min_dist(lat, f, g):
    d = [f[k] - g[k] - round(f[k] - g[k]) for k in range(3)]
    best = 1e9
    for a in (-1, 0, 1):
        for b in (-1, 0, 1):
            for c in (-1, 0, 1):
                v = vecmat([d[0] + a, d[1] + b, d[2] + c], lat)
                best = min(best, math.sqrt(sum(x * x for x in v)))
    return best


COMPS = [
    [("Li+", 1), ("Co3+", 1), ("O2-", 2)],
    [("Mg2+", 1), ("O2-", 1)],
    [("Ti4+", 1), ("O2-", 2)],
    [("Sr2+", 1), ("Ti4+", 1), ("O2-", 3)],
    [("Ca2+", 1), ("F-", 2)],
    [("Al3+", 2), ("O2-", 3)],
    [("Zn2+", 1), ("S2-", 1)],
    [("Na+", 2), ("S2-", 1)],
    [("Fe2+", 1), ("Fe3+", 2), ("O2-", 4)],
    [("Ba2+", 1), ("Zr4+", 1), ("S2-", 3)],
    [("Li+", 3), ("P5+", 1), ("O2-", 4)],
]


def bases(r):
    out = prototypes()
    for i in range(60):
        comp = COMPS[i % len(COMPS)]
        z = 1 if sum(c for _, c in comp) > 5 else r.randint(1, 2)
        out.append(random_structure(r, [(s, c * z) for s, c in comp], f"random{i}"))
    return out


# ---- transformations -------------------------------------------------------------------------

def wrap(s):
    s.frac = [[x - math.floor(x) for x in f] for f in s.frac]
    return s


def translate(r, s):
    t = [r.uniform(), r.uniform(), r.uniform()]
    s.frac = [[f[k] + t[k] for k in range(3)] for f in s.frac]
    return wrap(s)


def permute(r, s):
    idx = r.shuffle(range(len(s.species)))
    s.species = [s.species[i] for i in idx]
    s.frac = [s.frac[i] for i in idx]
    return s


def rotate(r, s):
    q = [r.gauss() for _ in range(4)]
    n = math.sqrt(sum(x * x for x in q))
    w, x, y, z = (v / n for v in q)
    R = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    s.lattice = [vecmat(row, [[R[j][i] for j in range(3)] for i in range(3)]) for row in s.lattice]
    return s


def unimodular(r):
    M = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    for _ in range(r.randint(1, 3)):
        i, j = r.randint(0, 2), r.randint(0, 2)
        if i == j:
            continue
        E = [[int(a == b) for b in range(3)] for a in range(3)]
        E[i][j] = r.choice([-1, 1])
        M = matmul(E, M)
    return M


def change_basis(s, M):
    Minv = inv(M)
    s.lattice = matmul(M, s.lattice)
    s.frac = [vecmat(f, Minv) for f in s.frac]
    return wrap(s)


def basis(r, s):
    return change_basis(s, unimodular(r))


def supercell(r, s, M=None):
    if M is None:
        n = r.randint(2, 4)
        choices = [[[n, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 0, 0], [0, n, 0], [0, 0, 1]],
                   [[1, 0, 0], [0, 1, 0], [0, 0, n]]]
        if n == 4:
            choices.append([[2, 0, 0], [0, 2, 0], [0, 0, 1]])
        if n == 2:
            choices.append([[1, 1, 0], [-1, 1, 0], [0, 0, 1]])
        M = r.choice(choices)
    Minv = inv(M)
    d = round(abs(det(M)))
    lo = [min(0, *(M[i][k] for i in range(3)), sum(min(0, M[i][k]) for i in range(3))) for k in range(3)]
    hi = [max(1, sum(max(0, M[i][k]) for i in range(3))) for k in range(3)]
    species, frac = [], []
    seen = set()
    for sp, f in zip(s.species, s.frac):
        for a in range(lo[0], hi[0] + 1):
            for b in range(lo[1], hi[1] + 1):
                for c in range(lo[2], hi[2] + 1):
                    g = vecmat([f[0] + a, f[1] + b, f[2] + c], Minv)
                    g = [x - math.floor(x + 1e-9) for x in g]
                    key = (sp,) + tuple(round(x * 1e6) % 1000000 for x in g)
                    if key in seen:
                        continue
                    if all(-1e-9 <= x < 1 - 1e-9 for x in g):
                        seen.add(key)
                        species.append(sp)
                        frac.append(g)
    assert len(species) == d * len(s.species), (len(species), d, len(s.species))
    s.lattice = matmul(M, s.lattice)
    s.species, s.frac = species, frac
    return wrap(s)


def strain(r, s, mag):
    e = [[0.0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(i, 3):
            e[i][j] = e[j][i] = r.uniform(-mag, mag) * (1.0 if i == j else 0.5)
    F = [[(1.0 if i == j else 0.0) + e[i][j] for j in range(3)] for i in range(3)]
    s.lattice = [vecmat(row, F) for row in s.lattice]
    return s


def shear(r, s, deg):
    t = math.tan(math.radians(deg)) * r.choice([-1, 1])
    i = r.randint(0, 2)
    j = (i + r.randint(1, 2)) % 3
    F = [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]
    F[i][j] = t
    s.lattice = [vecmat(row, F) for row in s.lattice]
    return s


def rattle(r, s, sigma):
    Linv = inv(s.lattice)
    s.frac = [[f[k] + d for k, d in enumerate(vecmat([sigma * r.gauss() for _ in range(3)], Linv))]
              for f in s.frac]
    return wrap(s)


def mirror(r, s):
    s.frac = [[-x for x in f] for f in s.frac]
    return basis(r, wrap(s))


def relabel(r, s):
    labels = sorted(set(s.species))
    if len(labels) >= 3 and r.randint(0, 1):
        a, b = r.shuffle(labels)[:2]
        s.species = [b if x == a else a if x == b else x for x in s.species]
    else:
        # Change one oxidation state: same elements, different species.
        lab = r.choice(labels)
        el = lab.rstrip("+-0123456789")
        rest = lab[len(el):]
        sign = rest[-1]
        q = int(rest[:-1] or 1) + 1
        s.species = [f"{el}{q}{sign}" if x == lab else x for x in s.species]
    return s


KINDS = [
    ("translate", 200), ("permute", 150), ("rotate", 200), ("basis", 200), ("supercell", 250),
    ("combined", 250), ("strain", 200), ("rattle", 200), ("mirror", 100), ("near_noise", 250),
    ("near_strain", 150), ("near_shear", 100), ("other", 150), ("species", 100),
    ("supercell_noise", 100),
]


def make_pairs(seed=20261129):
    """List of (kind, A, B)."""
    r = Rng(seed)
    base = bases(r)
    pairs = []
    for kind, count in KINDS:
        for _ in range(count):
            a = r.choice(base)
            b = a.copy()
            ell = (a.volume() / len(a.species)) ** (1 / 3)
            if kind == "translate":
                translate(r, b)
            elif kind == "permute":
                permute(r, b)
            elif kind == "rotate":
                rotate(r, b)
            elif kind == "basis":
                basis(r, b)
            elif kind == "supercell":
                supercell(r, b)
            elif kind == "combined":
                supercell(r, b)
                basis(r, b)
                rotate(r, b)
                translate(r, b)
                permute(r, b)
            elif kind == "strain":
                strain(r, b, r.uniform(0.01, 0.08))
                translate(r, b)
            elif kind == "rattle":
                rattle(r, b, r.uniform(0.01, 0.05))
                rotate(r, b)
            elif kind == "mirror":
                mirror(r, b)
            elif kind == "near_noise":
                rattle(r, b, r.uniform(0.05, 0.35) * ell / math.sqrt(3))
                translate(r, b)
            elif kind == "near_strain":
                strain(r, b, r.uniform(0.10, 0.30))
            elif kind == "near_shear":
                shear(r, b, r.uniform(3.0, 8.0))
            elif kind == "other":
                comp = {}
                for sp in a.species:
                    comp[sp] = comp.get(sp, 0) + 1
                b = random_structure(r, list(comp.items()), a.name + " other")
            elif kind == "species":
                relabel(r, b)
                translate(r, b)
            elif kind == "supercell_noise":
                supercell(r, b)
                basis(r, b)
                rattle(r, b, r.uniform(0.005, 0.03))
            b.name = f"{a.name} {kind}"
            pairs.append((kind, a, b))
    return pairs


def extxyz(structs):
    """Frames with Lattice, species (element) and oxi_states columns, Cartesian positions."""
    out = []
    for s in structs:
        out.append(str(len(s.species)))
        lat = " ".join(f"{x:.12f}" for row in s.lattice for x in row)
        out.append(f'Lattice="{lat}" Properties=species:S:1:pos:R:3:oxi_states:R:1 pbc="T T T"')
        for sp, f in zip(s.species, s.frac):
            el = sp.rstrip("+-0123456789")
            rest = sp[len(el):]
            q = 0.0
            if rest:
                q = float(rest[:-1] or 1) * (1 if rest[-1] == "+" else -1)
            c = vecmat(f, s.lattice)
            out.append(f"{el} {c[0]:.12f} {c[1]:.12f} {c[2]:.12f} {q:.1f}")
    return "\n".join(out) + "\n"


def checksum(pairs):
    h = hashlib.sha256()
    for kind, a, b in pairs:
        for s in (a, b):
            h.update(kind.encode())
            h.update(" ".join(s.species).encode())
            h.update(" ".join(f"{x:.6f}" for row in s.lattice for x in row).encode())
            h.update(" ".join(f"{x:.6f}" for f in s.frac for x in f).encode())
    return h.hexdigest()


def group_set(seed=4242, ndistinct=300, ncopies=100):
    """Structures for the grouping tests: ndistinct random structures (11 compositions, enough
    formula units for 6 or more sites) and ncopies symmetry-equivalent copies of randomly chosen ones
    (translation, rotation, basis change, supercell, 0.01-0.03 Å rattle, 0-2 % strain), in a
    shuffled order. Returns (structures, energies, origin) with origin[i] the index of the
    distinct structure that structure i is a copy of (itself for the originals). Energies:
    uniform in [-5, -3] eV/atom for the originals, the original's +- 0.01 for copies."""
    r = Rng(seed)
    structs, energies, origin = [], [], []
    for i in range(ndistinct):
        comp = COMPS[i % len(COMPS)]
        n = sum(c for _, c in comp)
        z = -(-6 // n)  # at least 6 sites: random cells of 2-3 sites often match each other
        structs.append(random_structure(r, [(s, c * z) for s, c in comp], f"distinct{i}"))
        energies.append(r.uniform(-5.0, -3.0))
        origin.append(i)
    for j in range(ncopies):
        k = r.randint(0, ndistinct - 1)
        b = structs[k].copy()
        if r.randint(0, 2) == 0:
            supercell(r, b)
        basis(r, b)
        rotate(r, b)
        translate(r, b)
        permute(r, b)
        strain(r, b, r.uniform(0.0, 0.02))
        rattle(r, b, r.uniform(0.01, 0.03))
        b.name = f"copy{j} of distinct{k}"
        structs.append(b)
        energies.append(energies[k] + r.uniform(-0.01, 0.01))
        origin.append(k)
    order = r.shuffle(range(len(structs)))
    return [structs[i] for i in order], [energies[i] for i in order], [order.index(origin[i]) for i in order]
