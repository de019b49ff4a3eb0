/* Internals of the model interface shared by model.c and the family sources (not installed). */
#ifndef MS_MODEL_IMPL_H
#define MS_MODEL_IMPL_H

#include "matscreen/model.h"

/* The built-in family records (models.def). */
#define MS_MODEL_FAMILY(name) extern const ms_model_family ms__model_family_##name;
#include "models.def"
#undef MS_MODEL_FAMILY

/* A model on data that family @p f loaded by other means than ms_model_create_spec() (the
 * rigid-ion family's typed constructors). Takes ownership of @p data: it is unloaded with the
 * last workspace, also when this fails. */
ms_err ms__model_wrap(const ms_model_family *f, void *data, const ms_model_about *about, ms_model *out);
/* The family and the loaded data of a model. */
const ms_model_family *ms__model_family(const ms_model m);
const void *ms__model_data(const ms_model m);

#endif
