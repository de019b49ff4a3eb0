/* The relaxed-structure store (funnel_impl.h): relaxing survivors block by block through the
 * scheduler with each block committed to the checkpoint (the relax stage's pass, and the
 * surrogate's learning rounds and filter), the packed form of relaxed structures, and the kept
 * entries of the store as cells for the collective stages (dedup, hull). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funnel_impl.h"
#include "relaxed_store.h"
#include "matscreen/symmetry.h"

static ms_err pack_structure(bytes *b, int64_t id, const ms_cell *c) {
  sheader h;
  memset(&h, 0, sizeof h);
  h.id = id;
  h.natoms = c->natoms;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) h.lattice[3 * i + j] = c->lattice[i][j];
  MS_CALL(ms__fn_bytes_put(b, &h, sizeof h));
  for (int k = 0; k < c->natoms; ++k) {
    ssite s;
    memset(&s, 0, sizeof s);
    memcpy(s.f, c->frac[k], sizeof s.f);
    const ms_species *sp = &c->species[c->kind[k]];
    s.Z = sp->Z;
    s.has_ox = sp->has_ox;
    s.ox = sp->ox;
    MS_CALL(ms__fn_bytes_put(b, &s, sizeof s));
  }
  return MS_SUCCESS;
}

ms_err ms__fn_unpack_cell(const sheader *h, ms_cell *c) {
  ms_cell_free(c);
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] = h->lattice[3 * i + j];
  ms_cell_set_lattice(c, L);
  const ssite *s = (const ssite *)(h + 1);
  for (int k = 0; k < h->natoms; ++k) {
    ms_species sp = {s[k].Z, s[k].has_ox, s[k].ox};
    MS_CALL(ms_cell_add_atom(c, &sp, s[k].f));
  }
  return MS_SUCCESS;
}

typedef struct {
  ms_cell cell;
  bytes frame; /* per survivor: relax_out, then the structure when converged */
} b_ctx;

static ms_err block_b(run_ctx *x, int64_t b, void *vctx) {
  b_ctx *c = vctx;
  c->frame.n = 0;
  int64_t first = b * x->bb, last = first + x->bb < x->nsv ? first + x->bb : x->nsv;
  for (int64_t k = first; k < last; ++k) {
    double t0 = MPI_Wtime();
    ms_candidate_info info;
    MS_CALL(ms_search_build(x->search, x->sv[k].id, &c->cell, &info));
    ms__fn_scale_volume(&c->cell, x->sv[k].volume_scale);
    ms_relax_result rr;
    memset(&rr, 0, sizeof rr);
    ms_err err = ms_relax_run(x->relax, &c->cell, &rr);
    relax_out o;
    memset(&o, 0, sizeof o);
    if (err == MS_ERR_INPUT) { /* uncovered species: a status, not a stop */
      ms_err_clear();
      err = MS_SUCCESS;
      rr.status = MS_STATUS_UNSUPPORTED;
      rr.energy = NAN;
      ms__fn_uncovered_reason(ms__fn_kind_model(x, MS_STAGE_RELAX), &c->cell, o.reason, sizeof o.reason);
    } else if (!err && rr.status != MS_STATUS_CONVERGED) {
      ms__fn_set_reason(o.reason, "relaxation %s%s%s", ms_status_name(rr.status), rr.detail[0] ? ": " : "",
               rr.detail);
    }
    MS_CALL(err);
    o.id = x->sv[k].id;
    o.e_relaxed = rr.status == MS_STATUS_CONVERGED ? rr.energy / c->cell.natoms : NAN;
    o.status = rr.status;
    o.iterations = rr.iterations;
    o.time_s = rr.time_s;
    o.natoms = c->cell.natoms;
    if (ms_cell_formula(&c->cell, 1, o.formula, sizeof o.formula)) ms_err_clear();
    snprintf(o.prototype, sizeof o.prototype, "%s", info.prototype);
    if (rr.status == MS_STATUS_CONVERGED) {
      int sg = 0;
      if (ms_spacegroup(&c->cell, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &sg, NULL)) ms_err_clear();
      o.spacegroup = sg;
    }
    o.busy_s = MPI_Wtime() - t0;
    MS_CALL(ms__fn_bytes_put(&c->frame, &o, sizeof o));
    if (rr.status == MS_STATUS_CONVERGED) MS_CALL(pack_structure(&c->frame, o.id, &c->cell));
  }
  return ms__spool_append(x->spool, MS_SPOOL_B, b, (uint32_t)(last - first), c->frame.b, c->frame.n);
}

/* Relax the survivor blocks @p todo (of @p per_block survivors each) over the scheduler. */
ms_err ms__fn_relax_blocks(run_ctx *x, const char *label, const int64_t *todo, int64_t ntodo, int64_t per_block,
                           int64_t items, int64_t done, int *stopped) {
  b_ctx c;
  memset(&c, 0, sizeof c);
  ms_cell_init(&c.cell);
  int stop = 0;
  ms_err err = ms__fn_run_blocks(x, label, todo, ntodo, 4, per_block, items, done, block_b, &c, &stop);
  ms_cell_free(&c.cell);
  free(c.frame.b);
  return ms__fn_agree_end(x, err, stop, stopped);
}


ms_err ms__fn_kept_cells(run_ctx *x, kept_set *k) {
  memset(k, 0, sizeof *k);
  int64_t m = 0;
  for (int64_t q = 0; q < x->nrout; ++q) m += x->rout[q].kept;
  k->cells = calloc((size_t)m + 1, sizeof *k->cells);
  k->ids = malloc(((size_t)m + 1) * sizeof *k->ids);
  k->which = malloc(((size_t)m + 1) * sizeof *k->which);
  k->en = malloc(((size_t)m + 1) * sizeof *k->en);
  ms_err e = (k->cells && k->ids && k->which && k->en) ? MS_SUCCESS
                                                       : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  size_t p = 0;
  for (int64_t q = 0; q < x->nrout && !e; ++q) {
    const relax_out *o = &x->rout[q];
    if (o->status != MS_STATUS_CONVERGED) continue;
    const sheader *h = (const sheader *)(x->structs.b + p);
    p += sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
    if (!o->kept) continue;
    ms_cell_init(&k->cells[k->n]);
    e = ms__fn_unpack_cell(h, &k->cells[k->n]);
    k->ids[k->n] = o->id;
    k->en[k->n] = o->e_relaxed;
    k->which[k->n] = q;
    k->n++;
    k->ncells = k->n;
  }
  return ms_err_agree(x->comm, e);
}

void ms__fn_kept_free(kept_set *k) {
  for (int64_t q = 0; q < k->ncells; ++q) ms_cell_free(&k->cells[q]);
  free(k->cells);
  free(k->ids);
  free(k->which);
  free(k->en);
  memset(k, 0, sizeof *k);
}
