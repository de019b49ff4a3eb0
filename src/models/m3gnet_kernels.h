/* Element-wise kernels of M3GNet's dense layers (m3gnet_kernels.c: vectorised, compiled at
 * -O3 and cloned per instruction set). Matrices are row-major; "rows x cols" arrays are
 * contiguous unless a leading dimension is named. Internal to src/models/m3gnet*.c. */
#ifndef MS_MODELS_M3GNET_KERNELS_H
#define MS_MODELS_M3GNET_KERNELS_H

#include <stddef.h>

/* exp(x), about 1 ulp, for |x| <= 708 (clamped beyond). */
double ms__m3g_exp(double x);
/* x <- swish(x), d <- swish'(x). */
void ms__m3g_k_swish(double *x, double *d, long n);
/* x <- sigmoid(x). */
void ms__m3g_k_sigmoid(double *x, long n);
/* z <- swish(z + b), d <- swish'(z + b), b broadcast over rows (rows x cols). */
void ms__m3g_k_bias_swish(double *z, double *d, int rows, int cols, const double *b);
/* z <- swish(z + pa[src] + pb[dst] + b), d <- swish'(...): the first layer of a convolution
 * MLP, with the per-atom products pa, pb (N x cols) gathered by bond end. */
void ms__m3g_k_first_layer(double *z, double *d, int rows, int cols, const double *pa,
                           const double *pb, const int *src, const int *dst, const double *b);
/* Last layer of a convolution MLP: z3 = [zh | zg] (rows x 2D, before bias), wb = W rbf
 * (rows x D): phi = swish(zh + bh) sigmoid(zg + bg), A = wb g3 swish', B = wb h3 sigmoid',
 * out = phi wb. */
void ms__m3g_k_mlp_out(int rows, int D, const double *z3, const double *bh, const double *bg,
                       const double *wb, double *phi, double *A, double *B, double *out);
/* Its reverse from go = dE/dout: gz3 = [go A | go B] (rows x 2D), gw = go phi. */
void ms__m3g_k_mlp_out_back(int rows, int D, const double *go, const double *A,
                            const double *B, const double *phi, double *gz3, double *gw);
/* x <- x d; y <- x d. */
void ms__m3g_k_mul(double *x, const double *d, long n);
void ms__m3g_k_mul_to(double *y, const double *x, const double *d, long n);
/* ga[src[r]] += g[r], gb[dst[r]] += g[r] (rows of cols). */
void ms__m3g_k_scatter_rows(int rows, int cols, const double *g, const int *src,
                            const int *dst, double *ga, double *gb);
/* y[idx[r]] += x[r] (rows of cols). */
void ms__m3g_k_add_rows_to(int rows, int cols, const double *x, const int *idx, double *y);
/* Three-body update of bond features: e += swish(u) sigmoid(q), with the reverse factors
 * A = sigmoid(q) swish'(u), B = swish(u) sigmoid'(q); and its reverse gu = ge A, gq = ge B. */
void ms__m3g_k_threebody_update(long n, const double *u, const double *q, double *e, double *A,
                                double *B);
void ms__m3g_k_threebody_back(long n, const double *ge, const double *A, const double *B,
                              double *gu, double *gq);

#endif
