/* The Dockerfile subset (rootfs-builder/dockerfile.c): parse, then run the
 * helpers the builder applies to each instruction (pair splitting, word
 * splitting, variable expansion) on what the parser produced. */
#include <assert.h>

#include "rootfs-builder/dockerfile.h"
#include "tests/fuzz/common.h"
#include "lib/strv.h"

static const char *lookup(const char *name, void *data)
{
	(void)data;
	if (strcmp(name, "A") == 0)
		return "a value";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "DOLLAR") == 0)
		return "$A ${A}";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct df_file f;
	memset(&f, 0, sizeof(f));
	struct sbx_error *err = NULL;
	if (df_parse(text, "Dockerfile", &f, &err) < 0) {
		assert(err != NULL && err->msg != NULL);
		sbx_error_free(&err);
		df_free(&f);
		free(text);
		return 0;
	}
	for (size_t i = 0; i < f.n; i++) {
		struct df_instr *in = &f.instrs[i];
		assert(in->line >= 1);
		assert(df_kind_name(in->kind) != NULL);
		const char *rest = in->rest ? in->rest : "";
		char **pairs = NULL;
		if (df_split_pairs(rest, in->kind == DF_ENV, &pairs, &err) == 0) {
			for (char **p = pairs; *p; p++)
				assert(strchr(*p, '=') != NULL || in->kind == DF_ARG);
			sbx_strv_free(pairs);
		}
		sbx_error_free(&err);
		char *x = df_expand(rest, lookup, NULL);
		if (x) {
			char **w = NULL;
			size_t n = 0;
			if (df_words(x, &w, &n, &err) == 0)
				sbx_strv_free(w);
			sbx_error_free(&err);
			free(x);
		}
		for (size_t j = 0; j < in->n_args; j++)
			free(df_expand(in->args[j], lookup, NULL));
	}
	df_free(&f);
	free(text);
	return 0;
}
