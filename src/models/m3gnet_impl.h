/* Internal types of the M3GNet implementation (m3gnet*.c), shared by its files only.
 *
 * Split by concern:
 *   m3gnet_file.c       model files: reading, validation, built-in names, accessors
 *   m3gnet_graph.c      bond list in pymatgen's order, short bonds and triplet indexing
 *   m3gnet_basis.c      radial and angular functions with their derivatives
 *   m3gnet_dense.c      GEMM wrapper (flop and time counts), activations, gated MLPs
 *   m3gnet_threebody.c  the triplet sums of the three-body update and their reverse
 *   m3gnet.c            workspace and the public compute (forward, reverse, forces, stress)
 *
 * Notation as in the specification: N atoms, E directed bonds, P short bonds (d <= r3),
 * T triplets, D node/edge feature width, U hidden width ("units"), F = 9 three-body features,
 * R = pair basis size (9 for the plain Bessel basis, 3 for the smooth one).
 * Matrices are row-major; a linear layer's weight is [out][in] as in PyTorch. */
#ifndef MS_MODELS_M3GNET_IMPL_H
#define MS_MODELS_M3GNET_IMPL_H

#include <stddef.h>

#include "matscreen/m3gnet.h"
#include "matscreen/species.h"

enum { MS__M3G_F = 9, MS__M3G_MAX_BLOCKS = 16 };

/* A linear layer y = W x + b (b may be NULL). Batches of inputs are rows, so the forward pass
 * multiplies by W^T: it is kept transposed too (wt), because OpenBLAS runs a row-major
 * A * B faster than A * B^T for these small shapes (no packing of B). */
typedef struct {
  int out, in;
  double *w;  /* out x in */
  double *wt; /* in x out */
  double *b;  /* out, or NULL */
} ms__m3g_lin;

/* A three-layer gated MLP of a graph convolution, input [v_src; v_dst; e] (3D), hidden U, U,
 * output D. The first layers of the value path (layers.0) and the gate path (gates.0) are
 * stacked into one 2U x 3D matrix and split by input part: w_src, w_dst, w_e (each 2U x D,
 * rows 0..U-1 from layers.0, U..2U-1 from gates.0). The v_src and v_dst parts are applied
 * per atom (N rows) instead of per bond (E rows), so the per-bond first layer reads D inputs
 * instead of 3D: a third of the flops. */
typedef struct {
  double *w_src, *w_dst, *w_e; /* 2U x D each */
  double *w_srcT, *w_dstT, *w_eT; /* D x 2U each (transposed) */
  double *b0;                  /* 2U */
  double *b2;                  /* 2U: biases of layers.2 then gates.2 */
  ms__m3g_lin l2, g2;          /* U x U */
  ms__m3g_lin l4, g4;          /* D x U */
} ms__m3g_conv_mlp;

typedef struct {
  ms__m3g_lin tb_atom;           /* F x D + bias: atom gate sigmoid(W v + b) */
  ms__m3g_lin tb_bond, tb_gate;  /* D x F, no bias */
  ms__m3g_conv_mlp edge, node;
  ms__m3g_lin edge_w, node_w;    /* D x R, no bias */
} ms__m3g_block;

struct ms_m3gnet_s {
  char *name, *description, *citation, *licence, *source, *origin;
  int format_version;
  int D, U, nblocks, R, use_smooth;
  double cutoff, cutoff3, data_mean, data_std;
  int ntypes;
  int *type_z;                   /* ntypes */
  int z_to_type[MS_MAX_Z + 1];   /* -1 when not covered */
  double *node_emb;              /* ntypes x D */
  double *elem_ref;              /* ntypes, eV */
  ms__m3g_lin edge_emb;          /* D x R + bias */
  ms__m3g_block blk[MS__M3G_MAX_BLOCKS];
  ms__m3g_lin ro_l[4], ro_g[4];  /* readout: layers/gates 0, 2, 4, 6 */
  /* radial basis constants (m3gnet_basis.c) */
  double bessel_z[MS__M3G_F], bessel_norm[MS__M3G_F]; /* column l*3 + n */
  double smooth_p[MS__M3G_F], smooth_e[MS__M3G_F], smooth_d[MS__M3G_F];
};

/* ---- workspace ----------------------------------------------------------------------- */

/* Activations of one block kept for the reverse pass: per bond, for each gated MLP the
 * derivatives of the hidden swishes (d1, d2: 2U each, value half then gate half), the MLP
 * output phi and the factors A = w * g3 * swish'(z3h), B = w * h3 * sigmoid'(z3g) that turn
 * the gradient of (phi * w) into the gradients of the last pre-activations (w = the rbf
 * weight); for the three-body update tbA = sigmoid(q) swish'(u), tbB = swish(u) sigmoid'(q). */
typedef struct {
  double *d1, *d2;       /* E x 2U */
  double *phi, *A, *B;   /* E x D */
} ms__m3g_mlp_tape;

typedef struct {
  double *tbA, *tbB;     /* E x D */
  ms__m3g_mlp_tape edge, node;
  double *sig;           /* N x F: the three-body atom gate of this block */
  double *e_in;          /* E x D: bond features entering the block, kept when the reverse
                          * pass recomputes this block (NULL otherwise) */
} ms__m3g_tape;

enum { MS__M3G_CHUNK = 128 }; /* bonds per GEMM batch: the working set stays in L2 */

struct ms_m3gnet_ws_s {
  const struct ms_m3gnet_s *m;
  /* capacities (elements) */
  size_t cap_atoms, cap_edges, cap_short, cap_points, cap_cubes, cap_tape_edges, cap_tape;
  size_t memory_limit;                 /* bytes; above it the reverse pass recomputes blocks */
  int recompute;                       /* this structure: one block's tape, blocks recomputed */
  /* atoms */
  int natoms;
  double (*cart)[3];
  int *type;
  double *v, *vnext, *gv, *gvnext;     /* N x D */
  double *pa_e, *pb_e, *pa_n, *pb_n;   /* N x 2U: first-layer products of v_src / v_dst */
  double *gpa_e, *gpb_e, *gpa_n, *gpb_n;
  double *gsig;                        /* N x F */
  double *sig_mem;                     /* nblocks x N x F: the tapes' atom gates */
  double *v_in;                        /* nblocks x N x D: node features entering each block */
  double *ro_d;                        /* readout tape: N x (2D + 4U) swish' values */
  double *ro_z;                        /* N x 2: last pre-activations */
  double *ro_buf;                      /* N x 4 max(D, U) scratch */
  /* bonds (directed), grouped by source atom */
  long long nedges;
  int *src, *dst;
  int (*img)[3];
  double (*R)[3];                      /* r_dst + n L - r_src, Å */
  double *d;
  double *rbf, *drbf, *grbf;           /* E x R */
  double *e, *ge;                      /* E x D */
  double *emb_d;                       /* E x D: swish' of the edge embedding */
  double *S;                           /* E x F: three-body sums (forward) or their gradients */
  double *gd;                          /* E: dE/dd_b */
  double (*gR)[3];                     /* E: dE/dR_b */
  double *tape_mem;
  ms__m3g_tape tape[MS__M3G_MAX_BLOCKS];
  /* short bonds (d <= r3) and the triplet indexing of the chosen semantics */
  long long nshort, ntriplets;
  int *sb_start;                       /* N + 1: short bonds of atom i are [start[i], start[i+1]) */
  int *sb_bond;                        /* bond whose geometry is used (P[p]) */
  int *sb_end;                         /* atom whose gate enters when p is the second bond */
  int *sb_tgt;                         /* bond row that receives the sum when p is the first */
  int *sb_wbond;                       /* bond whose length gives the cutoff weight of p */
  double (*sb_u)[3];                   /* unit vector of bond P[p] */
  double *sb_rb3, *sb_drb3;            /* P x F radial part of the three-body basis at d_P[p] */
  double *sb_wt, *sb_dwt;              /* f3(d_wbond[p]) and its derivative */
  double *sb_q, *sb_gq;                /* P x F per-block scratch */
  double *sb_grb3;                     /* P x F */
  double *sb_gwt, *sb_gcc;             /* P */
  double (*sb_gu)[3];                  /* P */
  /* bond search scratch (m3gnet_graph.c): per atom, then per image point and cube */
  double (*gs_f)[3], (*gs_wrapped)[3];
  int (*gs_corr)[3];
  double (*pt)[3];
  int *pt_atom, (*pt_img)[3], *pt_next;
  int *cube_head;
  /* GEMM batch buffers, MS__M3G_CHUNK rows each */
  double *x1, *x2, *x3, *x4, *x5;
  /* statistics of the last call */
  double dense_flops, dense_seconds, total_seconds;
};

/* m3gnet.c: make room for @p n bonds (edge arrays; keeps the first w->nedges entries). */
ms_err ms__m3g_reserve_edges(ms_m3gnet_ws w, size_t n);

/* m3gnet_graph.c: bond list of @p c in pymatgen's order (spec §3) into w->src/dst/img/R/d. */
ms_err ms__m3g_bonds(ms_m3gnet_ws w, const ms_cell *c);
/* Short bonds, their index arrays for semantics @p s (spec §5) and the triplet count. */
ms_err ms__m3g_short_bonds(ms_m3gnet_ws w, ms_m3gnet_semantics s);

/* m3gnet_basis.c */
void ms__m3g_basis_init(struct ms_m3gnet_s *m);
/* Pair basis (R values) and d/dr at distance r. */
void ms__m3g_pair_basis(const struct ms_m3gnet_s *m, double r, double *f, double *df);
/* Radial part of the three-body basis (F values, column l*3+n or m) and d/dr. */
void ms__m3g_threebody_radial(const struct ms_m3gnet_s *m, double r, double *f, double *df);
/* Three-body cutoff envelope f3(r) and its derivative. */
void ms__m3g_envelope(double r, double r3, double *f, double *df);
/* Y_l(c) for l = 0, 1, 2 and d/dc; c is clamped to [-1 + 1e-7, 1 - 1e-7] (zero slope there). */
void ms__m3g_angular(double c, double y[3], double dy[3]);

/* m3gnet_dense.c */
/* Wall-clock seconds (monotonic), for the statistics of a call. */
double ms__m3g_now(void);
void ms__m3g_gemm_nn(ms_m3gnet_ws w, int M, int N, int K, const double *A, int lda,
                     const double *B, int ldb, double beta, double *C, int ldc);
/* Forward of a convolution MLP on rows [r0, r0 + n) of bond features @p x (n x D), with the
 * per-atom first-layer products pa/pb, the rbf weight @p ww; writes phi * (W rbf) to @p out
 * (n x D) and the block's tape rows. */
void ms__m3g_mlp_forward(ms_m3gnet_ws w, const ms__m3g_conv_mlp *mlp, const ms__m3g_lin *ww,
                         long long r0, int n, const double *x, const double *pa,
                         const double *pb, const ms__m3g_mlp_tape *tape, double *out);
/* Reverse of the above: from the gradient @p gout (n x D) of the output, add the gradient of
 * the bond features to @p gx (n x D), of the per-atom products to gpa/gpb (N x 2U) and of
 * the rbf to w->grbf rows. @p gout may alias gx. */
void ms__m3g_mlp_backward(ms_m3gnet_ws w, const ms__m3g_conv_mlp *mlp, const ms__m3g_lin *ww,
                          long long r0, int n, const double *gout,
                          const ms__m3g_mlp_tape *tape, double *gx, double *gpa, double *gpb);

/* m3gnet_threebody.c: S rows (E x F) from the atom gate @p sig (N x F); and the reverse from
 * gS, adding to w->gsig and the geometry accumulators (sb_grb3, sb_gwt, sb_gu, sb_gcc). */
void ms__m3g_threebody_forward(ms_m3gnet_ws w, const double *sig, double *S);
void ms__m3g_threebody_backward(ms_m3gnet_ws w, const double *sig, const double *gS);

#endif
