/* M3GNet energy, forces and stress of one periodic cell (specification §6-§9): the workspace
 * and the orchestration of the forward pass and the hand-written reverse pass.
 *
 * Forward: bonds and bases; node features v = embedding of the element, bond features
 * e = swish(W rbf + b); per block the three-body update of e (if there are triplets), the edge
 * update e += phi_E([v_src; v_dst; e]) * (W_E rbf) and the node update v += sum over bonds
 * ending at the atom of phi_N([v_src; v_dst; e]) * (W_N rbf), the latter with the updated e and
 * the block's incoming v; readout eps_i = h(v_i) g(v_i) and E = data_std sum eps + data_mean +
 * sum of element references.
 *
 * Reverse: from dE/deps = data_std back through the readout and the blocks in reverse order to
 * dE/drbf, dE/d(three-body basis), dE/d(cutoff weights) and dE/dcos, then to G_b = dE/dR_b for
 * every bond vector R_b = r_dst + n L - r_src. Forces F_i = sum_{src = i} G_b - sum_{dst = i} G_b
 * and W = dE/d eps = sum_b R_b (x) G_b (symmetrised): every dependence on positions and lattice
 * goes through the R_b. The per-block activations the reverse pass needs are kept in the
 * workspace's tape (about 8 (D + U) doubles per bond and block); when that would exceed the
 * workspace's memory limit, one block's are kept with every block's inputs, and the reverse
 * pass recomputes the other blocks from those (reserve_network). */
#include "matscreen/m3gnet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "models/m3gnet_impl.h"
#include "models/m3gnet_kernels.h"

#ifdef MS_HAVE_OPENBLAS_EXTENSIONS
/* OpenBLAS's own controls, declared in OpenBLAS's cblas.h; repeated here in case another
 * cblas.h comes first on the include path (meson checked that the library has them). */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
#endif

enum { F = MS__M3G_F };

const char *ms_m3gnet_blas_kernel(void) {
#ifdef MS_HAVE_OPENBLAS_EXTENSIONS
  const char *k = openblas_get_corename();
  return k ? k : "unknown";
#else
  return "unknown";
#endif
}

void ms_m3gnet_stress_GPa(const double W[3][3], double volume, double stress[6]) {
  const double k = MS_M3GNET_EV_PER_A3_IN_GPA / volume;
  stress[0] = W[0][0] * k;
  stress[1] = W[1][1] * k;
  stress[2] = W[2][2] * k;
  stress[3] = 0.5 * (W[1][2] + W[2][1]) * k;
  stress[4] = 0.5 * (W[0][2] + W[2][0]) * k;
  stress[5] = 0.5 * (W[0][1] + W[1][0]) * k;
}

/* ---- workspace ------------------------------------------------------------------------- */

ms_err ms_m3gnet_ws_create(const ms_m3gnet m, ms_m3gnet_ws *out) {
  MS_CHECK(m && out, MS_ERR_ARG, "ms_m3gnet_ws_create: NULL argument");
  *out = NULL;
  ms_m3gnet_ws w = NULL;
  MS_CALL(MS_CALLOC(1, &w));
  w->m = m;
  w->memory_limit = (size_t)MS_M3GNET_DEFAULT_MEMORY_LIMIT_MIB << 20;
  const int width = 2 * (m->U > m->D ? m->U : m->D);
  ms_err e = MS_SUCCESS;
  double **bufs[5] = {&w->x1, &w->x2, &w->x3, &w->x4, &w->x5};
  for (int k = 0; k < 5 && !e; ++k) e = MS_CALLOC((size_t)MS__M3G_CHUNK * width, bufs[k]);
  if (e) {
    ms_m3gnet_ws_free(&w);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
#ifdef MS_HAVE_OPENBLAS_EXTENSIONS
  /* MPI ranks are the parallelism: a threaded BLAS inside each rank would oversubscribe. */
  openblas_set_num_threads(1);
#endif
  *out = w;
  return MS_SUCCESS;
}

void ms_m3gnet_ws_free(ms_m3gnet_ws *wp) {
  if (!wp || !*wp) return;
  ms_m3gnet_ws w = *wp;
  void *ptrs[] = {w->cart, w->type, w->v, w->vnext, w->gv, w->gvnext, w->pa_e, w->pb_e,
                  w->pa_n, w->pb_n, w->gpa_e, w->gpb_e, w->gpa_n, w->gpb_n, w->gsig, w->sig_mem, w->v_in, w->ro_d,
                  w->ro_z, w->ro_buf, w->src, w->dst, w->img, w->R, w->d, w->rbf, w->drbf,
                  w->grbf, w->e, w->ge, w->emb_d, w->S, w->gd, w->gR, w->tape_mem,
                  w->sb_start, w->sb_bond, w->sb_end, w->sb_tgt, w->sb_wbond, w->sb_u,
                  w->sb_rb3, w->sb_drb3, w->sb_wt, w->sb_dwt, w->sb_q, w->sb_gq, w->sb_grb3,
                  w->sb_gwt, w->sb_gcc, w->sb_gu, w->gs_f, w->gs_wrapped, w->gs_corr, w->pt,
                  w->pt_atom, w->pt_img, w->pt_next, w->cube_head, w->x1, w->x2, w->x3,
                  w->x4, w->x5};
  for (size_t k = 0; k < sizeof ptrs / sizeof ptrs[0]; ++k) free(ptrs[k]);
  free(w);
  *wp = NULL;
}

/* New capacity for @p need elements: exactly @p need the first time (the workspace then holds
 * no slack for a single structure), else at least a quarter more than before so that a series
 * of growing structures reallocates O(log) times. */
static size_t grow_cap(size_t have, size_t need) {
  if (have == 0) return need;
  const size_t cap = have + have / 4;
  return cap > need ? cap : need;
}

static ms_err reserve_atoms(ms_m3gnet_ws w, int N) {
  if ((size_t)N + 1 <= w->cap_atoms) return MS_SUCCESS;
  const struct ms_m3gnet_s *m = w->m;
  const size_t cap = grow_cap(w->cap_atoms, (size_t)N + 1), D = (size_t)m->D;
  const size_t U2 = 2 * (size_t)m->U, ro = 2 * (size_t)(m->D + 2 * m->U);
  const size_t wide = 4 * (size_t)(m->U > m->D ? m->U : m->D);
  MS_CALL(MS_REALLOC(cap, &w->cart));
  MS_CALL(MS_REALLOC(cap, &w->type));
  MS_CALL(MS_REALLOC(cap * D, &w->v));
  MS_CALL(MS_REALLOC(cap * D, &w->vnext));
  MS_CALL(MS_REALLOC(cap * D, &w->gv));
  MS_CALL(MS_REALLOC(cap * D, &w->gvnext));
  double **per_u2[] = {&w->pa_e, &w->pb_e, &w->pa_n, &w->pb_n,
                       &w->gpa_e, &w->gpb_e, &w->gpa_n, &w->gpb_n};
  for (size_t k = 0; k < sizeof per_u2 / sizeof per_u2[0]; ++k)
    MS_CALL(MS_REALLOC(cap * U2, per_u2[k]));
  MS_CALL(MS_REALLOC(cap * F, &w->gsig));
  MS_CALL(MS_REALLOC(cap * F * (size_t)m->nblocks, &w->sig_mem));
  MS_CALL(MS_REALLOC(cap * D * (size_t)m->nblocks, &w->v_in));
  for (int k = 0; k < m->nblocks; ++k) w->tape[k].sig = w->sig_mem + (size_t)k * cap * F;
  MS_CALL(MS_REALLOC(cap * ro, &w->ro_d));
  MS_CALL(MS_REALLOC(cap * 2, &w->ro_z));
  MS_CALL(MS_REALLOC(cap * wide, &w->ro_buf));
  MS_CALL(MS_REALLOC(cap, &w->sb_start));
  MS_CALL(MS_REALLOC(cap, &w->gs_f));
  MS_CALL(MS_REALLOC(cap, &w->gs_wrapped));
  MS_CALL(MS_REALLOC(cap, &w->gs_corr));
  w->cap_atoms = cap;
  return MS_SUCCESS;
}

/* The arrays the bond search fills; it calls this as the list grows. */
ms_err ms__m3g_reserve_edges(ms_m3gnet_ws w, size_t n) {
  if (n <= w->cap_edges) return MS_SUCCESS;
  const size_t cap = grow_cap(w->cap_edges, n < 1024 ? 1024 : n);
  MS_CALL(MS_REALLOC(cap, &w->src));
  MS_CALL(MS_REALLOC(cap, &w->dst));
  MS_CALL(MS_REALLOC(cap, &w->img));
  MS_CALL(MS_REALLOC(cap, &w->R));
  MS_CALL(MS_REALLOC(cap, &w->d));
  w->cap_edges = cap;
  return MS_SUCCESS;
}

/* Bytes per bond of the arrays sized by the bond count, tape excluded (keep in step with
 * reserve_network and ms__m3g_reserve_edges). */
static size_t net_bytes_per_bond(const struct ms_m3gnet_s *m) {
  const size_t D = (size_t)m->D, R = (size_t)m->R, d8 = sizeof(double), i4 = sizeof(int);
  return (3 * R + 3 * D + F + 1 + 3) * d8 +               /* rbf, e, S, gd, gR */
         (3 + 2 * F + 2 + 3 * F + 2 + 3) * d8 + 4 * i4 +  /* short-bond arrays */
         (3 + 1) * d8 + 5 * i4;                          /* bond list */
}

/* Doubles per bond of one block's tape. */
static size_t tape_per_bond(const struct ms_m3gnet_s *m) {
  return 8 * (size_t)m->D + 8 * (size_t)m->U;
}

/* Everything else sized by the bond count: features, bases, gradients, and the tape. The tape
 * keeps every block's activations (nblocks x E x (8D + 8U) doubles) unless the workspace would
 * then exceed its memory limit; it then keeps one block's, plus each block's incoming bond
 * features (E x D), and the reverse pass recomputes blocks 0 .. nblocks-2 from those. */
static ms_err reserve_network(ms_m3gnet_ws w, size_t E) {
  const struct ms_m3gnet_s *m = w->m;
  if (E < 1) E = 1;
  if (E > w->cap_tape_edges) {
    const size_t cap = grow_cap(w->cap_tape_edges, E), D = (size_t)m->D, R = (size_t)m->R;
    MS_CALL(MS_REALLOC(cap * R, &w->rbf));
    MS_CALL(MS_REALLOC(cap * R, &w->drbf));
    MS_CALL(MS_REALLOC(cap * R, &w->grbf));
    MS_CALL(MS_REALLOC(cap * D, &w->e));
    MS_CALL(MS_REALLOC(cap * D, &w->ge));
    MS_CALL(MS_REALLOC(cap * D, &w->emb_d));
    MS_CALL(MS_REALLOC(cap * F, &w->S));
    MS_CALL(MS_REALLOC(cap, &w->gd));
    MS_CALL(MS_REALLOC(cap, &w->gR));
    MS_CALL(MS_REALLOC(cap, &w->sb_bond));
    MS_CALL(MS_REALLOC(cap, &w->sb_end));
    MS_CALL(MS_REALLOC(cap, &w->sb_tgt));
    MS_CALL(MS_REALLOC(cap, &w->sb_wbond));
    MS_CALL(MS_REALLOC(cap, &w->sb_u));
    MS_CALL(MS_REALLOC(cap * F, &w->sb_rb3));
    MS_CALL(MS_REALLOC(cap * F, &w->sb_drb3));
    MS_CALL(MS_REALLOC(cap, &w->sb_wt));
    MS_CALL(MS_REALLOC(cap, &w->sb_dwt));
    MS_CALL(MS_REALLOC(cap * F, &w->sb_q));
    MS_CALL(MS_REALLOC(cap * F, &w->sb_gq));
    MS_CALL(MS_REALLOC(cap * F, &w->sb_grb3));
    MS_CALL(MS_REALLOC(cap, &w->sb_gwt));
    MS_CALL(MS_REALLOC(cap, &w->sb_gcc));
    MS_CALL(MS_REALLOC(cap, &w->sb_gu));
    w->cap_tape_edges = cap;
    w->cap_short = cap;
  }
  /* full tape or one block? */
  const size_t D = (size_t)m->D, U2 = 2 * (size_t)m->U, nb = (size_t)m->nblocks;
  const size_t per = tape_per_bond(m);
  const size_t full = (E * (net_bytes_per_bond(m) + nb * per * sizeof(double)));
  w->recompute = nb > 1 && full > w->memory_limit;
  const size_t need = w->recompute ? E * (per + (nb - 1) * D) : E * nb * per;
  if (need > w->cap_tape) {
    free(w->tape_mem);
    w->tape_mem = NULL;
    w->cap_tape = 0;
    const size_t cap = grow_cap(w->cap_tape, need);
    MS_CALL(MS_CALLOC(cap, &w->tape_mem));
    w->cap_tape = cap;
  }
  /* layout with the current bond count as row count */
  for (int k = 0; k < m->nblocks; ++k) {
    ms__m3g_tape *t = &w->tape[k];
    double *p = w->tape_mem + (w->recompute ? 0 : (size_t)k * E * per);
    t->tbA = p, p += E * D;
    t->tbB = p, p += E * D;
    t->edge.d1 = p, p += E * U2;
    t->edge.d2 = p, p += E * U2;
    t->edge.phi = p, p += E * D;
    t->edge.A = p, p += E * D;
    t->edge.B = p, p += E * D;
    t->node.d1 = p, p += E * U2;
    t->node.d2 = p, p += E * U2;
    t->node.phi = p, p += E * D;
    t->node.A = p, p += E * D;
    t->node.B = p;
    t->e_in = w->recompute && k + 1 < m->nblocks ? w->tape_mem + E * (per + (size_t)k * D) : NULL;
  }
  return MS_SUCCESS;
}

void ms_m3gnet_ws_set_memory_limit(ms_m3gnet_ws w, size_t bytes) {
  if (w) w->memory_limit = bytes;
}

void ms_m3gnet_ws_stats(const ms_m3gnet_ws w, ms_m3gnet_stats *s) {
  memset(s, 0, sizeof *s);
  if (!w) return;
  const struct ms_m3gnet_s *m = w->m;
  const size_t D = (size_t)m->D, U = (size_t)m->U, d8 = sizeof(double);
  s->natoms = w->natoms;
  s->n_edges = w->nedges;
  s->n_triplets = w->ntriplets;
  s->dense_flops = w->dense_flops;
  s->dense_seconds = w->dense_seconds;
  s->total_seconds = w->total_seconds;
  s->min_bond_A = INFINITY;
  for (long long k = 0; k < w->nedges; ++k)
    if (w->d[k] < s->min_bond_A) s->min_bond_A = w->d[k];
  size_t b = 5 * (size_t)MS__M3G_CHUNK * 2 * (U > D ? U : D) * d8;
  b += w->cap_atoms * (3 * d8 + sizeof(int) + 4 * D * d8 + 8 * 2 * U * d8 + F * d8 +
                       (2 * (D + 2 * U) + 2 + 4 * (U > D ? U : D)) * d8 + sizeof(int) +
                       6 * d8 + 3 * sizeof(int) + (size_t)m->nblocks * (F + D) * d8);
  b += w->cap_tape_edges * (net_bytes_per_bond(m) - (4 * d8 + 5 * sizeof(int)));
  b += w->cap_edges * (4 * d8 + 5 * sizeof(int));
  b += w->cap_tape * d8;
  b += w->cap_points * (3 * d8 + 5 * sizeof(int)) + w->cap_cubes * sizeof(int);
  s->recomputed_blocks = w->recompute ? m->nblocks - 1 : 0;
  s->workspace_bytes = b;
}

/* ---- readout: eps_i = h(v_i) g(v_i), four layers per path ------------------------------- */

/* Forward over all atoms; returns sum eps and keeps the derivatives for the reverse. */
static double readout_forward(ms_m3gnet_ws w) {
  const struct ms_m3gnet_s *m = w->m;
  const int N = w->natoms, D = m->D, U = m->U;
  const int width = U > D ? U : D, ro = 2 * (D + 2 * U);
  double *hin = w->ro_buf, *hout = w->ro_buf + (size_t)N * width;
  double *gin = w->ro_buf + 2 * (size_t)N * width, *gout = w->ro_buf + 3 * (size_t)N * width;
  double sum = 0;
  for (int path = 0; path < 2; ++path) {
    const ms__m3g_lin *lay = path ? m->ro_g : m->ro_l;
    double *in = path ? gin : hin, *out = path ? gout : hout;
    const double *x = w->v;
    int nin = D, off = path * (D + 2 * U); /* this path's columns in ro_d */
    for (int k = 0; k < 4; ++k) {
      const int nout = lay[k].out;
      ms__m3g_gemm_nn(w, N, nout, nin, x, nin, lay[k].wt, nout, 0.0, out, nout);
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < nout; ++j) out[(size_t)i * nout + j] += lay[k].b[j];
      if (k < 3) {
        for (int i = 0; i < N; ++i)
          ms__m3g_k_swish(out + (size_t)i * nout, w->ro_d + (size_t)i * ro + off, nout);
        off += nout;
      } else {
        for (int i = 0; i < N; ++i) w->ro_z[2 * i + path] = out[i];
      }
      double *t = in;
      in = out;
      out = t;
      x = in;
      nin = nout;
    }
  }
  for (int i = 0; i < N; ++i) {
    const double h = w->ro_z[2 * i], g = 1.0 / (1.0 + exp(-w->ro_z[2 * i + 1]));
    sum += h * g;
  }
  return sum;
}

/* Reverse: gv = data_std * d(sum eps)/dv. */
static void readout_backward(ms_m3gnet_ws w, double *gv) {
  const struct ms_m3gnet_s *m = w->m;
  const int N = w->natoms, D = m->D, U = m->U;
  const int width = U > D ? U : D, ro = 2 * (D + 2 * U);
  double *a = w->ro_buf, *b = w->ro_buf + (size_t)N * width;
  memset(gv, 0, (size_t)N * D * sizeof *gv);
  for (int path = 0; path < 2; ++path) {
    const ms__m3g_lin *lay = path ? m->ro_g : m->ro_l;
    for (int i = 0; i < N; ++i) {
      const double h = w->ro_z[2 * i], g = 1.0 / (1.0 + exp(-w->ro_z[2 * i + 1]));
      a[i] = path ? m->data_std * h * g * (1.0 - g) : m->data_std * g;
    }
    int off = path * (D + 2 * U) + D + 2 * U; /* end of this path's derivative columns */
    for (int k = 3; k >= 0; --k) {
      const int nout = lay[k].out, nin = lay[k].in;
      /* a holds dE/dz of layer k's output (N x nout); b <- a W (N x nin) */
      ms__m3g_gemm_nn(w, N, nin, nout, a, nout, lay[k].w, nin, 0.0, b, nin);
      if (k > 0) {
        off -= nin;
        for (int i = 0; i < N; ++i) {
          const double *dd = w->ro_d + (size_t)i * ro + off;
          double *z = b + (size_t)i * nin;
          for (int j = 0; j < nin; ++j) z[j] *= dd[j];
        }
      } else {
        for (size_t t = 0; t < (size_t)N * D; ++t) gv[t] += b[t];
      }
      double *t = a;
      a = b;
      b = t;
    }
  }
}

/* ---- compute ----------------------------------------------------------------------------- */

static ms_err prepare(ms_m3gnet_ws w, const ms_cell *c, ms_m3gnet_semantics s) {
  const struct ms_m3gnet_s *m = w->m;
  MS_CALL(ms_cell_validate(c));
  MS_CALL(ms_m3gnet_check_species((ms_m3gnet)m, c));
  MS_CHECK(s == MS_M3GNET_CONSISTENT || s == MS_M3GNET_MATGL, MS_ERR_ARG,
           "unknown M3GNet semantics %d", (int)s);
  const int N = c->natoms;
  MS_CHECK(N >= 1, MS_ERR_INPUT, "the cell has no atoms");
  MS_CALL(reserve_atoms(w, N));
  w->natoms = N;
  for (int i = 0; i < N; ++i) {
    ms_cell_site_cart(c, i, w->cart[i]);
    w->type[i] = m->z_to_type[c->species[c->kind[i]].Z];
  }
  MS_CALL(ms__m3g_bonds(w, c));
  MS_CALL(reserve_network(w, (size_t)w->nedges));
  for (long long b = 0; b < w->nedges; ++b)
    ms__m3g_pair_basis(m, w->d[b], w->rbf + b * m->R, w->drbf + b * m->R);
  MS_CALL(ms__m3g_short_bonds(w, s));
  return MS_SUCCESS;
}

/* e' = e + swish(S Wl^T) * sigmoid(S Wg^T) on rows [r0, r0 + n). */
static void threebody_update(ms_m3gnet_ws w, const ms__m3g_block *blk, const ms__m3g_tape *t,
                             long long r0, int n) {
  const int D = w->m->D;
  double *u = w->x1, *q = w->x2;
  ms__m3g_gemm_nn(w, n, D, F, w->S + r0 * F, F, blk->tb_bond.wt, D, 0.0, u, D);
  ms__m3g_gemm_nn(w, n, D, F, w->S + r0 * F, F, blk->tb_gate.wt, D, 0.0, q, D);
  ms__m3g_k_threebody_update((long)n * D, u, q, w->e + r0 * D, t->tbA + r0 * D,
                             t->tbB + r0 * D);
}

/* Block k of the forward pass: from v (N x D) and e (E x D) at the block's start, the tape of
 * block k, e at its end and v at its end (swapped into w->v). */
static void forward_block(ms_m3gnet_ws w, int k) {
  const struct ms_m3gnet_s *m = w->m;
  const int N = w->natoms, D = m->D, U2 = 2 * m->U;
  const long long E = w->nedges;
  const ms__m3g_block *blk = &m->blk[k];
  const ms__m3g_tape *t = &w->tape[k];
  if (w->ntriplets > 0) {
    /* atom gate from the block's incoming v, then the triplet sums into S */
    ms__m3g_gemm_nn(w, N, F, D, w->v, D, blk->tb_atom.wt, F, 0.0, t->sig, F);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < F; ++j) t->sig[(size_t)i * F + j] += blk->tb_atom.b[j];
    ms__m3g_k_sigmoid(t->sig, (long)N * F);
    ms__m3g_threebody_forward(w, t->sig, w->S);
  }
  /* per-atom parts of the first layers of both MLPs */
  ms__m3g_gemm_nn(w, N, U2, D, w->v, D, blk->edge.w_srcT, U2, 0.0, w->pa_e, U2);
  ms__m3g_gemm_nn(w, N, U2, D, w->v, D, blk->edge.w_dstT, U2, 0.0, w->pb_e, U2);
  ms__m3g_gemm_nn(w, N, U2, D, w->v, D, blk->node.w_srcT, U2, 0.0, w->pa_n, U2);
  ms__m3g_gemm_nn(w, N, U2, D, w->v, D, blk->node.w_dstT, U2, 0.0, w->pb_n, U2);
  memcpy(w->vnext, w->v, (size_t)N * D * sizeof(double));
  for (long long r0 = 0; r0 < E; r0 += MS__M3G_CHUNK) {
    const int n = (int)(E - r0 < MS__M3G_CHUNK ? E - r0 : MS__M3G_CHUNK);
    double *e = w->e + r0 * D, *out = w->x5;
    if (w->ntriplets > 0) threebody_update(w, blk, t, r0, n);
    ms__m3g_mlp_forward(w, &blk->edge, &blk->edge_w, r0, n, e, w->pa_e, w->pb_e, &t->edge,
                        out);
    for (int q = 0; q < n * D; ++q) e[q] += out[q];
    ms__m3g_mlp_forward(w, &blk->node, &blk->node_w, r0, n, e, w->pa_n, w->pb_n, &t->node,
                        out);
    ms__m3g_k_add_rows_to(n, D, out, w->dst + r0, w->vnext);
  }
  double *tmp = w->v;
  w->v = w->vnext;
  w->vnext = tmp;
}

/* Forward pass; returns the model's energy sum (before data_std and the references). */
static double forward(ms_m3gnet_ws w) {
  const struct ms_m3gnet_s *m = w->m;
  const int N = w->natoms, D = m->D, R = m->R;
  const long long E = w->nedges;
  for (int i = 0; i < N; ++i)
    memcpy(w->v + (size_t)i * D, m->node_emb + (size_t)w->type[i] * D, D * sizeof(double));
  if (E == 0) return readout_forward(w);
  /* bond embedding */
  for (long long r0 = 0; r0 < E; r0 += MS__M3G_CHUNK) {
    const int n = (int)(E - r0 < MS__M3G_CHUNK ? E - r0 : MS__M3G_CHUNK);
    double *e = w->e + r0 * D;
    ms__m3g_gemm_nn(w, n, D, R, w->rbf + r0 * R, R, m->edge_emb.wt, D, 0.0, e, D);
    ms__m3g_k_bias_swish(e, w->emb_d + r0 * D, n, D, m->edge_emb.b);
  }
  for (int k = 0; k < m->nblocks; ++k) {
    if (w->tape[k].e_in) {
      /* the block's inputs, for its recomputation in the reverse pass */
      memcpy(w->tape[k].e_in, w->e, (size_t)E * D * sizeof(double));
      memcpy(w->v_in + (size_t)k * N * D, w->v, (size_t)N * D * sizeof(double));
    }
    forward_block(w, k);
  }
  return readout_forward(w);
}

/* Reverse pass: fills w->gR with dE/dR_b for every bond. */
static void backward(ms_m3gnet_ws w) {
  const struct ms_m3gnet_s *m = w->m;
  const int N = w->natoms, D = m->D, U2 = 2 * m->U, R = m->R;
  const long long E = w->nedges, P = w->nshort;
  readout_backward(w, w->gv);
  memset(w->ge, 0, (size_t)E * D * sizeof(double));
  memset(w->grbf, 0, (size_t)E * R * sizeof(double));
  memset(w->gR, 0, (size_t)E * sizeof *w->gR);
  memset(w->sb_grb3, 0, (size_t)P * F * sizeof(double));
  memset(w->sb_gwt, 0, (size_t)P * sizeof(double));
  memset(w->sb_gcc, 0, (size_t)P * sizeof(double));
  memset(w->sb_gu, 0, (size_t)P * sizeof *w->sb_gu);
  for (int k = m->nblocks - 1; k >= 0; --k) {
    const ms__m3g_block *blk = &m->blk[k];
    const ms__m3g_tape *t = &w->tape[k];
    const size_t nu = (size_t)N * U2 * sizeof(double);
    if (t->e_in) {
      /* one-block tape: redo this block's forward from its saved inputs (same operations in
       * the same order, so the tape is bitwise the one the forward pass had) */
      memcpy(w->e, t->e_in, (size_t)E * D * sizeof(double));
      memcpy(w->v, w->v_in + (size_t)k * N * D, (size_t)N * D * sizeof(double));
      forward_block(w, k);
    }
    memset(w->gpa_e, 0, nu);
    memset(w->gpb_e, 0, nu);
    memset(w->gpa_n, 0, nu);
    memset(w->gpb_n, 0, nu);
    memcpy(w->gvnext, w->gv, (size_t)N * D * sizeof(double));
    for (long long r0 = 0; r0 < E; r0 += MS__M3G_CHUNK) {
      const int n = (int)(E - r0 < MS__M3G_CHUNK ? E - r0 : MS__M3G_CHUNK);
      double *ge = w->ge + r0 * D, *gm = w->x5;
      /* node update: the message of bond b went to v[dst(b)] */
      for (int r = 0; r < n; ++r)
        memcpy(gm + (size_t)r * D, w->gv + (size_t)w->dst[r0 + r] * D, D * sizeof(double));
      ms__m3g_mlp_backward(w, &blk->node, &blk->node_w, r0, n, gm, &t->node, ge, w->gpa_n,
                           w->gpb_n);
      /* edge update: e'' = e' + out, so ge' = ge'' + (gradient through the MLP) */
      ms__m3g_mlp_backward(w, &blk->edge, &blk->edge_w, r0, n, ge, &t->edge, ge, w->gpa_e,
                           w->gpb_e);
      if (w->ntriplets > 0) {
        /* three-body update: gS = (ge tbA) Wl + (ge tbB) Wg */
        double *gu = w->x1, *gq = w->x2;
        ms__m3g_k_threebody_back((long)n * D, ge, t->tbA + r0 * D, t->tbB + r0 * D, gu, gq);
        ms__m3g_gemm_nn(w, n, F, D, gu, D, blk->tb_bond.w, F, 0.0, w->S + r0 * F, F);
        ms__m3g_gemm_nn(w, n, F, D, gq, D, blk->tb_gate.w, F, 1.0, w->S + r0 * F, F);
      }
    }
    /* per-atom parts of the first layers */
    ms__m3g_gemm_nn(w, N, D, U2, w->gpa_e, U2, blk->edge.w_src, D, 1.0, w->gvnext, D);
    ms__m3g_gemm_nn(w, N, D, U2, w->gpb_e, U2, blk->edge.w_dst, D, 1.0, w->gvnext, D);
    ms__m3g_gemm_nn(w, N, D, U2, w->gpa_n, U2, blk->node.w_src, D, 1.0, w->gvnext, D);
    ms__m3g_gemm_nn(w, N, D, U2, w->gpb_n, U2, blk->node.w_dst, D, 1.0, w->gvnext, D);
    if (w->ntriplets > 0) {
      memset(w->gsig, 0, (size_t)N * F * sizeof(double));
      ms__m3g_threebody_backward(w, t->sig, w->S);
      for (size_t q = 0; q < (size_t)N * F; ++q) w->gsig[q] *= t->sig[q] * (1.0 - t->sig[q]);
      ms__m3g_gemm_nn(w, N, D, F, w->gsig, F, blk->tb_atom.w, D, 1.0, w->gvnext, D);
    }
    double *tmp = w->gv;
    w->gv = w->gvnext;
    w->gvnext = tmp;
  }
  /* bond embedding */
  for (long long r0 = 0; r0 < E; r0 += MS__M3G_CHUNK) {
    const int n = (int)(E - r0 < MS__M3G_CHUNK ? E - r0 : MS__M3G_CHUNK);
    double *g = w->x1;
    ms__m3g_k_mul_to(g, w->ge + r0 * D, w->emb_d + r0 * D, (long)n * D);
    ms__m3g_gemm_nn(w, n, R, D, g, D, m->edge_emb.w, R, 1.0, w->grbf + r0 * R, R);
  }
  /* lengths: pair basis, three-body radial part and cutoff weights; angles */
  for (long long b = 0; b < E; ++b) {
    double g = 0;
    for (int j = 0; j < R; ++j) g += w->grbf[b * R + j] * w->drbf[b * R + j];
    w->gd[b] = g;
  }
  for (long long p = 0; p < P; ++p) {
    const int g = w->sb_bond[p];
    double s = 0;
    for (int j = 0; j < F; ++j) s += w->sb_grb3[p * F + j] * w->sb_drb3[p * F + j];
    w->gd[g] += s;
    w->gd[w->sb_wbond[p]] += w->sb_gwt[p] * w->sb_dwt[p];
    const double *u = w->sb_u[p];
    for (int k = 0; k < 3; ++k)
      w->gR[g][k] += (w->sb_gu[p][k] - w->sb_gcc[p] * u[k]) / w->d[g];
  }
  for (long long b = 0; b < E; ++b)
    for (int k = 0; k < 3; ++k) w->gR[b][k] += w->gd[b] * w->R[b][k] / w->d[b];
}

ms_err ms_m3gnet_compute(ms_m3gnet_ws w, const ms_cell *c, ms_m3gnet_semantics s,
                         double *energy, double (*forces)[3], double W[3][3]) {
  MS_CHECK(w && c && energy, MS_ERR_ARG, "ms_m3gnet_compute: NULL argument");
  const struct ms_m3gnet_s *m = w->m;
  const double t0 = ms__m3g_now();
  w->dense_flops = 0;
  w->dense_seconds = 0;
  w->natoms = 0;
  w->nedges = w->nshort = w->ntriplets = 0;
  MS_CALL(prepare(w, c, s));
  const int N = w->natoms;
  const double eps_sum = forward(w);
  double ref = 0;
  for (int i = 0; i < N; ++i) ref += m->elem_ref[w->type[i]];
  const double E_total = m->data_std * eps_sum + m->data_mean + ref;
  MS_CHECK(isfinite(E_total), MS_ERR_NUMERIC, "M3GNet energy is not finite (%g)", E_total);
  *energy = E_total;
  if (forces || W) {
    backward(w);
    if (forces) {
      memset(forces, 0, (size_t)N * sizeof *forces);
      for (long long b = 0; b < w->nedges; ++b)
        for (int k = 0; k < 3; ++k) {
          forces[w->src[b]][k] += w->gR[b][k];
          forces[w->dst[b]][k] -= w->gR[b][k];
        }
      for (int i = 0; i < N; ++i)
        for (int k = 0; k < 3; ++k)
          MS_CHECK(isfinite(forces[i][k]), MS_ERR_NUMERIC, "M3GNet force on atom %d is not "
                   "finite", i);
    }
    if (W) {
      double Wr[3][3] = {{0}};
      for (long long b = 0; b < w->nedges; ++b)
        for (int a = 0; a < 3; ++a)
          for (int k = 0; k < 3; ++k) Wr[a][k] += w->R[b][a] * w->gR[b][k];
      for (int a = 0; a < 3; ++a)
        for (int k = 0; k < 3; ++k) {
          W[a][k] = 0.5 * (Wr[a][k] + Wr[k][a]);
          MS_CHECK(isfinite(W[a][k]), MS_ERR_NUMERIC, "M3GNet stress is not finite");
        }
    }
  }
  w->total_seconds = ms__m3g_now() - t0;
  return MS_SUCCESS;
}
