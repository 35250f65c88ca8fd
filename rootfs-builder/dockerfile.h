/* Parser of the Dockerfile subset that `sbx-rootfs build` runs
 * (docs/rootfs.md).  Pure: text in, instructions out; variables are
 * substituted later, by the builder, when their values are known. */
#ifndef SBX_ROOTFS_DOCKERFILE_H
#define SBX_ROOTFS_DOCKERFILE_H

#include <stddef.h>

#include "lib/error.h"

enum df_kind {
	DF_FROM,
	DF_RUN,
	DF_COPY,
	DF_ADD,
	DF_ENV,
	DF_ARG,
	DF_WORKDIR,
	DF_USER,
	DF_LABEL,
	DF_CMD,
	DF_ENTRYPOINT,
};

struct df_instr {
	enum df_kind kind;
	int line;    /* first line of the instruction, from 1 */
	char *text;  /* the instruction as written (continuations joined), for progress */
	char *rest;  /* everything after the keyword and the --flags */
	int json;    /* exec form: args came from a JSON array */
	char **args; /* exec form elements, or whitespace-split words (quotes kept) */
	size_t n_args;
	/* --flags (COPY/ADD: from, chown, chmod; FROM: platform) */
	char *from, *chown, *chmod, *platform;
};

struct df_file {
	struct df_instr *instrs;
	size_t n;
};

const char *df_kind_name(enum df_kind k);

/* name is used in messages ("Dockerfile.sandbox:12: ..."). */
int df_parse(const char *text, const char *name, struct df_file *f, struct sbx_error **err);
void df_free(struct df_file *f);

/* Split KEY=VALUE pairs (ENV, LABEL, ARG) honouring double and single
 * quotes and backslash escapes; "ENV KEY VALUE" (one pair, the old form)
 * when the first word has no '='.  Returns NULL-terminated KEY=VALUE strings. */
int df_split_pairs(const char *rest, int allow_bare, char ***out, struct sbx_error **err);

/* Substitute $VAR, ${VAR}, ${VAR:-word} and ${VAR:+word}; `\$` is a
 * literal dollar.  lookup returns NULL for unset variables. */
char *df_expand(const char *s, const char *(*lookup)(const char *name, void *data), void *data);

/* Split words on whitespace, removing quotes (for COPY/ADD/FROM arguments). */
int df_words(const char *s, char ***out, size_t *n, struct sbx_error **err);

/* Lists from here are freed with sbx_strv_free (lib/strv.h). */

#endif
