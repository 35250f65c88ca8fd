/* sbx seccomp check FILE
 * sbx seccomp export FILE|default --pfc|--bpf */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"

int sbx_seccomp_profile_for_spec(const char *spec, struct sbx_seccomp_profile *p, struct sbx_error **err);

static int usage(void)
{
	fprintf(stderr, "usage: sbx seccomp check FILE\n"
			"       sbx seccomp export FILE|default --pfc|--bpf\n");
	return 2;
}

static int report(const char *verb, struct sbx_error *err)
{
	fprintf(stderr, "sbx seccomp %s: %s\n", verb, err ? err->msg : "failed");
	return 1;
}

static int check(const char *spec)
{
	cleanup_error struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	struct sbx_seccomp *f = NULL;
	int rc = sbx_seccomp_profile_for_spec(spec, &p, &err);
	if (rc == 0)
		rc = sbx_seccomp_from_profile(&p, &f, &err);
	if (rc == 0)
		printf("%s: ok (%zu rules, %zu BPF instructions%s)\n", spec, p.n_rules,
		       sbx_seccomp_instructions(f),
		       sbx_seccomp_reports_denials(f) ? ", denials reported" : "");
	sbx_seccomp_free(f);
	sbx_seccomp_profile_free(&p);
	return rc < 0 ? report("check", err) : 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int export(const char *spec, bool pfc)
{
	cleanup_error struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	int rc = sbx_seccomp_profile_for_spec(spec, &p, &err);
	if (rc == 0 && pfc) {
		fflush(stdout);
		rc = sbx_seccomp_write_pfc(&p, STDOUT_FILENO, &err);
	} else if (rc == 0) {
		/* The program the kernel loads, as seccomp_export_bpf(3) writes it. */
		struct sbx_seccomp *f = NULL;
		rc = sbx_seccomp_from_profile(&p, &f, &err);
		if (rc == 0 && write_all(STDOUT_FILENO, f->kernel, f->len * sizeof(f->kernel[0])) < 0)
			rc = sbx_error_set(&err, errno, "writing the filter");
		sbx_seccomp_free(f);
	}
	sbx_seccomp_profile_free(&p);
	return rc < 0 ? report("export", err) : 0;
}

int sbx_seccomp_cli(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	if (!strcmp(argv[0], "check")) {
		if (argc != 2)
			return usage();
		return check(argv[1]);
	}
	if (!strcmp(argv[0], "export")) {
		const char *spec = NULL;
		int format = -1;
		for (int i = 1; i < argc; i++) {
			if (!strcmp(argv[i], "--pfc"))
				format = 1;
			else if (!strcmp(argv[i], "--bpf"))
				format = 0;
			else if (!spec && argv[i][0] != '-')
				spec = argv[i];
			else
				return usage();
		}
		if (!spec || format < 0)
			return usage();
		return export(spec, format == 1);
	}
	return usage();
}
