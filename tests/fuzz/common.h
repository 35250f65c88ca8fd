/* Shared by the libFuzzer harnesses in tests/fuzz/ (docs/security.md,
 * "Fuzzing").  Parsers that take a path get the input through a memfd named
 * by /proc/self/fd/N, so no harness leaves files behind or races another. */
#ifndef SBX_FUZZ_COMMON_H
#define SBX_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding data; path gets "/proc/self/fd/N".  Aborts on failure:
 * a harness that cannot set up must not report clean runs. */
static inline int fuzz_memfd(const void *data, size_t size, char path[64])
{
	int fd = memfd_create("sbx-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	const char *p = data;
	size_t done = 0;
	while (done < size) {
		ssize_t w = write(fd, p + done, size - done);
		if (w <= 0)
			abort();
		done += (size_t)w;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* NUL-terminated copy of data (embedded NULs cut the string short, as
 * they would for a C string from argv or a file). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split data at the separator line "\n---8<---\n" into at most max parts;
 * returns how many were found.  Lets one input carry several documents
 * (an index, a manifest and a config) while staying readable in a corpus. */
#define FUZZ_SEP "\n---8<---\n"
static inline size_t fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, size_t max)
{
	size_t n = 0, sl = strlen(FUZZ_SEP);
	const uint8_t *p = data, *end = data + size;
	while (n + 1 < max) {
		const uint8_t *hit = memmem(p, (size_t)(end - p), FUZZ_SEP, sl);
		if (hit == NULL)
			break;
		part[n] = p;
		len[n++] = (size_t)(hit - p);
		p = hit + sl;
	}
	part[n] = p;
	len[n++] = (size_t)(end - p);
	return n;
}

#endif
