/* Dense layers of M3GNet: the GEMM wrapper that counts flops and time, the activations, and
 * the forward and reverse passes of the graph-convolution gated MLPs (specification §6.3).
 *
 * A convolution MLP maps x = [v_src; v_dst; e] (3D) through two paths of three layers,
 *   h1 = swish(L0 x + c0), h2 = swish(L2 h1 + c2), h3 = swish(L4 h2 + c4)
 *   g1 = swish(G0 x + d0), g2 = swish(G2 g1 + d2), g3 = sigmoid(G4 g2 + d4),
 * and its output is phi = h3 * g3, multiplied by the rbf weight W rbf. Bonds are processed in
 * batches of MS__M3G_CHUNK rows so that each layer is one GEMM and the batch stays in cache.
 * The first layers of both paths form one 2U x 3D matrix; its v_src and v_dst columns are
 * applied per atom beforehand (pa = v W_src^T, pb = v W_dst^T, N x 2U), and per bond only the
 * e columns remain: z1 = e W_e^T + pa[src] + pb[dst] + b0.
 *
 * The reverse pass needs input gradients only (no weight gradients): each layer costs one
 * GEMM with the transposed weights, the same flops as forward. The forward pass stores what it
 * needs (the swish derivatives of the hidden layers, phi and the two factors A, B of the last
 * layer, see m3gnet_impl.h) in the block's tape. */
#include <math.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "models/m3gnet_impl.h"
#include "models/m3gnet_kernels.h"

double ms__m3g_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* C = A B + beta C (A: M x K, B: K x N). */
void ms__m3g_gemm_nn(ms_m3gnet_ws w, int M, int N, int K, const double *A, int lda,
                     const double *B, int ldb, double beta, double *C, int ldc) {
  if (M <= 0 || N <= 0) return;
  const double t0 = ms__m3g_now();
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0, A, lda, B, ldb, beta,
              C, ldc);
  w->dense_seconds += ms__m3g_now() - t0;
  w->dense_flops += 2.0 * M * N * K;
}

void ms__m3g_mlp_forward(ms_m3gnet_ws w, const ms__m3g_conv_mlp *mlp, const ms__m3g_lin *ww,
                         long long r0, int n, const double *x, const double *pa,
                         const double *pb, const ms__m3g_mlp_tape *tape, double *out) {
  const struct ms_m3gnet_s *m = w->m;
  const int D = m->D, U = m->U, U2 = 2 * U, R = m->R;
  double *z1 = w->x1, *z2 = w->x2, *z3 = w->x3, *wb = w->x4;
  /* layer 0, value and gate paths together */
  ms__m3g_gemm_nn(w, n, U2, D, x, D, mlp->w_eT, U2, 0.0, z1, U2);
  ms__m3g_k_first_layer(z1, tape->d1 + r0 * U2, n, U2, pa, pb, w->src + r0, w->dst + r0,
                        mlp->b0);
  /* layer 2 */
  ms__m3g_gemm_nn(w, n, U, U, z1, U2, mlp->l2.wt, U, 0.0, z2, U2);
  ms__m3g_gemm_nn(w, n, U, U, z1 + U, U2, mlp->g2.wt, U, 0.0, z2 + U, U2);
  ms__m3g_k_bias_swish(z2, tape->d2 + r0 * U2, n, U2, mlp->b2);
  /* layer 4 and the rbf weight */
  ms__m3g_gemm_nn(w, n, D, U, z2, U2, mlp->l4.wt, D, 0.0, z3, 2 * D);
  ms__m3g_gemm_nn(w, n, D, U, z2 + U, U2, mlp->g4.wt, D, 0.0, z3 + D, 2 * D);
  ms__m3g_gemm_nn(w, n, D, R, w->rbf + r0 * R, R, ww->wt, D, 0.0, wb, D);
  const size_t o = (size_t)r0 * D;
  ms__m3g_k_mlp_out(n, D, z3, mlp->l4.b, mlp->g4.b, wb, tape->phi + o, tape->A + o,
                    tape->B + o, out);
}

void ms__m3g_mlp_backward(ms_m3gnet_ws w, const ms__m3g_conv_mlp *mlp, const ms__m3g_lin *ww,
                          long long r0, int n, const double *gout,
                          const ms__m3g_mlp_tape *tape, double *gx, double *gpa, double *gpb) {
  const struct ms_m3gnet_s *m = w->m;
  const int D = m->D, U = m->U, U2 = 2 * U, R = m->R;
  double *g1 = w->x1, *g2 = w->x2, *g3 = w->x3, *gwb = w->x4;
  const size_t o = (size_t)r0 * D;
  ms__m3g_k_mlp_out_back(n, D, gout, tape->A + o, tape->B + o, tape->phi + o, g3, gwb);
  ms__m3g_gemm_nn(w, n, R, D, gwb, D, ww->w, R, 1.0, w->grbf + r0 * R, R);
  /* through layer 4 and the swish of layer 2 */
  ms__m3g_gemm_nn(w, n, U, D, g3, 2 * D, mlp->l4.w, U, 0.0, g2, U2);
  ms__m3g_gemm_nn(w, n, U, D, g3 + D, 2 * D, mlp->g4.w, U, 0.0, g2 + U, U2);
  ms__m3g_k_mul(g2, tape->d2 + r0 * U2, (long)n * U2);
  /* through layer 2 and the swish of layer 0 */
  ms__m3g_gemm_nn(w, n, U, U, g2, U2, mlp->l2.w, U, 0.0, g1, U2);
  ms__m3g_gemm_nn(w, n, U, U, g2 + U, U2, mlp->g2.w, U, 0.0, g1 + U, U2);
  ms__m3g_k_mul(g1, tape->d1 + r0 * U2, (long)n * U2);
  /* through layer 0: the bond features, and the per-atom products */
  ms__m3g_gemm_nn(w, n, D, U2, g1, U2, mlp->w_e, D, 1.0, gx, D);
  ms__m3g_k_scatter_rows(n, U2, g1, w->src + r0, w->dst + r0, gpa, gpb);
}
