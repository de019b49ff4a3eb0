/* Cell geometry: parameters, volume, conversions, exact periodic distances in skewed cells,
 * neighbour lists against a brute-force image search, supercells and Niggli reduction. */
#include "matscreen/cell.h"
#include "matscreen/neighbor.h"
#include "ms_test.h"

#define PI 3.14159265358979323846

/* A strongly skewed triclinic cell with 5 sites (widths far below the cutoffs used). */
static void make_skewed(ms_cell *c) {
  ms_cell_init(c);
  double abc[3] = {3.1, 3.7, 4.3}, ang[3] = {63.0, 111.0, 52.0}, L[3][3];
  ms_lattice_from_parameters(abc, ang, L);
  /* shear it further with a unimodular change of basis: same lattice, uglier vectors */
  double M[3][3];
  const int U[3][3] = {{1, 3, 0}, {0, 1, 2}, {0, 0, 1}};   /* det 1 */
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) M[i][j] = U[i][0] * L[0][j] + U[i][1] * L[1][j] + U[i][2] * L[2][j];
  ms_cell_set_lattice(c, M);
  const double f[5][3] = {{0.1, 0.2, 0.3}, {0.55, 0.15, 0.8}, {0.9, 0.7, 0.05}, {0.33, 0.66, 0.5}, {0.0, 0.95, 0.45}};
  const int Z[5] = {38, 22, 8, 8, 8};
  for (int k = 0; k < 5; ++k) ms_cell_add_atom(c, &(ms_species){Z[k], 1, Z[k] == 8 ? -2 : 3}, f[k]);
}

/* Brute force over a generous image range: count pairs within rc and sum of 1/r. */
/* Image range that surely contains every vector shorter than rc: |n_k| <= rc / w_k + 1,
 * with the widths w_k = V / |a_l x a_m| computed here independently of the library. */
static void bounds(const ms_cell *c, double rc, int K[3]) {
  const double (*L)[3] = (const double (*)[3])c->lattice;
  double v = fabs(L[0][0] * (L[1][1] * L[2][2] - L[1][2] * L[2][1]) -
                  L[0][1] * (L[1][0] * L[2][2] - L[1][2] * L[2][0]) +
                  L[0][2] * (L[1][0] * L[2][1] - L[1][1] * L[2][0]));
  for (int k = 0; k < 3; ++k) {
    const double *p = L[(k + 1) % 3], *q = L[(k + 2) % 3];
    double x[3] = {p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0]};
    K[k] = (int)ceil(rc * sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) / v) + 2;
  }
}

static void brute_pairs(const ms_cell *c, double rc, int unused, long *count, double *sum) {
  (void)unused;
  int K[3];
  bounds(c, rc, K);
  *count = 0;
  *sum = 0;
  for (int i = 0; i < c->natoms; ++i)
    for (int j = 0; j < c->natoms; ++j)
      for (int a = -K[0]; a <= K[0]; ++a)
        for (int b = -K[1]; b <= K[1]; ++b)
          for (int g = -K[2]; g <= K[2]; ++g) {
            double f[3] = {c->frac[j][0] - c->frac[i][0] + a, c->frac[j][1] - c->frac[i][1] + b,
                           c->frac[j][2] - c->frac[i][2] + g}, d[3];
            ms_cell_frac_to_cart(c, f, d);
            double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            if (r > 0 && r <= rc) {
              (*count)++;
              *sum += 1 / r;
            }
          }
  /* ordered pairs -> unordered */
  *count /= 2;
  *sum /= 2;
}

static void check_nlist(const ms_cell *c, double rc, int K) {
  long bc;
  double bs;
  brute_pairs(c, rc, K, &bc, &bs);
  ms_nlist nl;
  ms_nlist_init(&nl);
  MS_TEST_OK(ms_nlist_build(&nl, c, rc));
  double s = 0;
  double rmin = INFINITY;
  for (int p = 0; p < nl.npairs; ++p) {
    double r = sqrt(nl.r2[p]);
    s += 1 / r;
    if (r < rmin) rmin = r;
    MS_TEST_TRUE(nl.i[p] <= nl.j[p]);
  }
  MS_TEST_EQ_INT(nl.npairs, bc);
  MS_TEST_REL(s, bs, 1e-12);
  MS_TEST_NEAR(nl.rmin, rmin, 1e-12);
  MS_TEST_NEAR(nl.rmin, ms_cell_min_distance(c, NULL, NULL), 1e-12);
  /* a missing kernel is an argument error, not a crash */
  MS_TEST_ERR(ms_nlist_foreach_block(&nl, c, rc, NULL, NULL, NULL), MS_ERR_ARG, "kernel");
  ms_nlist_free(&nl);
}

typedef struct {
  long n;
  double s;
} acc_t;
static int acc_block(const ms_nblock *b, void *ctx) {
  acc_t *a = ctx;
  for (int k = 0; k < b->n; ++k) {
    a->n++;
    a->s += 1 / sqrt(b->r2[k]);
  }
  return 0;
}

int main(void) {
  /* parameters round trip and the volume formula */
  double abc[3] = {3.0, 4.0, 5.0}, ang[3] = {80.0, 95.0, 105.0}, L[3][3];
  MS_TEST_OK(ms_lattice_from_parameters(abc, ang, L));
  ms_cell c;
  ms_cell_init(&c);
  ms_cell_set_lattice(&c, L);
  double abc2[3], ang2[3];
  ms_cell_parameters(&c, abc2, ang2);
  for (int k = 0; k < 3; ++k) {
    MS_TEST_NEAR(abc2[k], abc[k], 1e-12);
    MS_TEST_NEAR(ang2[k], ang[k], 1e-10);
  }
  double ca = cos(80 * PI / 180), cb = cos(95 * PI / 180), cg = cos(105 * PI / 180);
  double vref = 60.0 * sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg);
  MS_TEST_REL(ms_cell_volume(&c), vref, 1e-13);
  MS_TEST_TRUE(ms_cell_det(&c) > 0);
  MS_TEST_NEAR(L[0][1], 0.0, 0);
  MS_TEST_NEAR(L[0][2], 0.0, 0);
  MS_TEST_NEAR(L[1][2], 0.0, 0);
  MS_TEST_ERR(ms_lattice_from_parameters(abc, (double[3]){10, 10, 150}, L), MS_ERR_INPUT, "do not form");
  MS_TEST_ERR(ms_lattice_from_parameters((double[3]){-1, 1, 1}, ang, L), MS_ERR_INPUT, "positive");

  /* frac <-> cart */
  double f[3] = {0.3, -0.7, 1.25}, r[3], g[3];
  ms_cell_frac_to_cart(&c, f, r);
  ms_cell_cart_to_frac(&c, r, g);
  for (int k = 0; k < 3; ++k) MS_TEST_NEAR(g[k], f[k], 1e-14);
  ms_cell_free(&c);

  /* skewed cell: exact minimum-image distances vs brute force */
  make_skewed(&c);
  MS_TEST_OK(ms_cell_validate(&c));
  double w[3];
  ms_cell_widths(&c, w);
  MS_TEST_TRUE(w[0] < 3.0 || w[1] < 3.0 || w[2] < 3.0);
  for (int i = 0; i < c.natoms; ++i)
    for (int j = 0; j < c.natoms; ++j) {
      double best = INFINITY;
      int K[3];
      bounds(&c, 12.0, K); /* 12 Å exceeds every lattice vector length here */
      for (int a = -K[0]; a <= K[0]; ++a)
        for (int b = -K[1]; b <= K[1]; ++b)
          for (int q = -K[2]; q <= K[2]; ++q) {
            double df[3] = {c.frac[j][0] - c.frac[i][0] + a, c.frac[j][1] - c.frac[i][1] + b,
                            c.frac[j][2] - c.frac[i][2] + q}, d[3];
            ms_cell_frac_to_cart(&c, df, d);
            double rr = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            if (rr > 1e-12 && rr < best) best = rr;
          }
      MS_TEST_NEAR(ms_cell_distance(&c, i, j, NULL), best, 1e-12);
    }

  /* neighbour lists: skewed small cell with cutoffs above the widths */
  check_nlist(&c, 4.0, 8);
  check_nlist(&c, 9.5, 12);
  ms_nlist nl;
  ms_nlist_init(&nl);
  acc_t acc = {0, 0};
  MS_TEST_OK(ms_nlist_foreach_block(&nl, &c, 9.5, acc_block, &acc, NULL));
  long bc;
  double bs;
  brute_pairs(&c, 9.5, 12, &bc, &bs);
  MS_TEST_EQ_INT(acc.n, bc);
  MS_TEST_REL(acc.s, bs, 1e-12);

  /* supercell: sites x det, volume x det, same neighbour environment per site */
  ms_cell sc;
  ms_cell_init(&sc);
  const int M[3][3] = {{2, 1, 0}, {0, 1, 1}, {1, 0, 2}}; /* det = 2*2 - 1*(0-1) + 0 = 5 */
  MS_TEST_OK(ms_cell_supercell(&c, M, &sc));
  MS_TEST_EQ_INT(sc.natoms, 5 * c.natoms);
  MS_TEST_REL(ms_cell_volume(&sc), 5 * ms_cell_volume(&c), 1e-12);
  acc_t acc2 = {0, 0};
  MS_TEST_OK(ms_nlist_foreach_block(&nl, &sc, 9.5, acc_block, &acc2, NULL));
  MS_TEST_EQ_INT(acc2.n, 5 * bc);
  MS_TEST_REL(acc2.s, 5 * bs, 1e-11);
  MS_TEST_NEAR(ms_cell_min_distance(&sc, NULL, NULL), ms_cell_min_distance(&c, NULL, NULL), 1e-10);

  /* large cell through the binned path: 4x4x4 of the skewed cell (320 sites) */
  ms_cell big;
  ms_cell_init(&big);
  MS_TEST_OK(ms_cell_supercell_diag(&c, 4, 4, 4, &big));
  acc_t acc3 = {0, 0};
  MS_TEST_OK(ms_nlist_foreach_block(&nl, &big, 6.0, acc_block, &acc3, NULL));
  long bc6;
  double bs6;
  brute_pairs(&c, 6.0, 10, &bc6, &bs6);
  MS_TEST_EQ_INT(acc3.n, 64 * bc6);
  MS_TEST_REL(acc3.s, 64 * bs6, 1e-11);

  /* Niggli: a cubic lattice hidden behind a unimodular basis change comes back cubic,
   * right-handed, with the same volume and the same interatomic distances. */
  ms_cell cub;
  ms_cell_init(&cub);
  double Lc[3][3] = {{4, 0, 0}, {0, 4, 0}, {0, 0, 4}};
  const int U[3][3] = {{1, 2, 3}, {0, 1, 4}, {0, 0, 1}};
  double Lu[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Lu[i][j] = U[i][0] * Lc[0][j] + U[i][1] * Lc[1][j] + U[i][2] * Lc[2][j];
  ms_cell_set_lattice(&cub, Lu);
  double rc0[3] = {0, 0, 0}, rc1[3] = {2.0, 1.0, 0.5}, fc[3];
  ms_cell_cart_to_frac(&cub, rc0, fc);
  ms_cell_add_atom(&cub, &(ms_species){12, 1, 2}, fc);
  ms_cell_cart_to_frac(&cub, rc1, fc);
  ms_cell_add_atom(&cub, &(ms_species){8, 1, -2}, fc);
  double d01 = ms_cell_distance(&cub, 0, 1, NULL);
  int T[3][3];
  MS_TEST_OK(ms_cell_niggli_reduce(&cub, 1e-5, T));
  ms_cell_parameters(&cub, abc2, ang2);
  for (int k = 0; k < 3; ++k) {
    MS_TEST_NEAR(abc2[k], 4.0, 1e-10);
    MS_TEST_NEAR(ang2[k], 90.0, 1e-8);
  }
  MS_TEST_NEAR(ms_cell_det(&cub), 64.0, 1e-9);
  MS_TEST_NEAR(ms_cell_distance(&cub, 0, 1, NULL), d01, 1e-12);
  MS_TEST_NEAR(d01, sqrt(4 + 1 + 0.25), 1e-12);
  /* the skewed cell reduces to a basis with a <= b <= c and the same volume */
  ms_cell red;
  ms_cell_init(&red);
  ms_cell_copy(&red, &c);
  MS_TEST_OK(ms_cell_niggli_reduce(&red, 1e-5, NULL));
  ms_cell_parameters(&red, abc2, ang2);
  MS_TEST_TRUE(abc2[0] <= abc2[1] + 1e-9 && abc2[1] <= abc2[2] + 1e-9);
  MS_TEST_REL(ms_cell_volume(&red), ms_cell_volume(&c), 1e-12);
  MS_TEST_NEAR(ms_cell_min_distance(&red, NULL, NULL), ms_cell_min_distance(&c, NULL, NULL), 1e-10);
  acc_t acc4 = {0, 0};
  MS_TEST_OK(ms_nlist_foreach_block(&nl, &red, 9.5, acc_block, &acc4, NULL));
  MS_TEST_EQ_INT(acc4.n, bc);
  MS_TEST_REL(acc4.s, bs, 1e-11);

  /* validation */
  ms_cell bad;
  ms_cell_init(&bad);
  double Lz[3][3] = {{1, 0, 0}, {2, 0, 0}, {0, 0, 1}};
  ms_cell_set_lattice(&bad, Lz);
  MS_TEST_ERR(ms_cell_validate(&bad), MS_ERR_INPUT, "volume");
  ms_cell_set_lattice(&bad, Lc);
  ms_cell_add_atom(&bad, &(ms_species){8, 0, 0}, (double[3]){NAN, 0, 0});
  MS_TEST_ERR(ms_cell_validate(&bad), MS_ERR_INPUT, "non-finite");

  ms_nlist_free(&nl);
  ms_cell_free(&c);
  ms_cell_free(&sc);
  ms_cell_free(&big);
  ms_cell_free(&cub);
  ms_cell_free(&red);
  ms_cell_free(&bad);
  return MS_TEST_RESULT();
}
