/* The layout of every public struct: compiled as C here, and as C++ by
 * cxx_layout.cpp, which includes this file (see cxx_layout.h). */
#include "cxx_layout.h"

#include <string.h>

#include <cthreading.h>

#ifdef __cplusplus
#define CT_LAYOUT_FN ct_layout_cxx
#else
#define CT_LAYOUT_FN ct_layout_c
#endif

/* __alignof__ of a member takes what raises its alignment into account
 * (C's _Atomic, C++'s alignas), which alignof of its type would not. */
#define CT_LAYOUT_STRUCT(T) {#T " size", sizeof(T)}, {#T " align", __alignof__(T)},
#define CT_LAYOUT_MEMBER(T, m)                                                           \
	{#T "." #m " offset", offsetof(T, m)}, {#T "." #m " size", sizeof(((T *)0)->m)}, \
		{#T "." #m " align", __alignof__(((T *)0)->m)},

static const struct ct_layout_row rows[] = {CT_LAYOUT_TABLE(CT_LAYOUT_STRUCT, CT_LAYOUT_MEMBER)};

size_t CT_LAYOUT_FN(const struct ct_layout_row **out)
{
	*out = rows;
	return sizeof rows / sizeof rows[0];
}

#ifndef __cplusplus
int ct_layout_mismatches(FILE *out)
{
	const struct ct_layout_row *c, *cxx;
	size_t nc = ct_layout_c(&c), ncxx = ct_layout_cxx(&cxx);
	int bad = 0;
	if (nc != ncxx) {
		fprintf(out, "C has %zu layout rows, C++ %zu\n", nc, ncxx);
		bad++;
	}
	for (size_t i = 0; i < nc && i < ncxx; i++) {
		if (strcmp(c[i].what, cxx[i].what) != 0 || c[i].value != cxx[i].value) {
			fprintf(out, "%s: C %zu, C++ %s %zu\n", c[i].what, c[i].value, cxx[i].what,
				cxx[i].value);
			bad++;
		}
	}
	return bad;
}
#endif
