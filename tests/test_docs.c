/* The docs show only code the project builds and runs. Every fenced block
 * in README.md and the docs/ pages names its source in an HTML comment on the
 * line before it, and these cases hold each block to that source:
 *
 *   <!-- example: examples/ex1_thread_function.c -->   then a c block:
 *       a contiguous run of that file's lines, byte for byte (the sources
 *       allowed are examples/, examples/python/ and tests/consumer/); a
 *       cpp block the same, from a C++ file there (tests/consumer/hello.cpp);
 *   <!-- example: examples/python/ex1_thread_function.py -->   then a
 *       python block: the same, from the seed's originals;
 *   <!-- output: ex1_thread_function any-order numbers-vary -->   then a
 *       text block: what that example prints when run now, compared line
 *       for line; "any-order" sorts the lines first, "numbers-vary" lets
 *       every number stand for any number (timings, lost updates) and
 *       every run of spaces for one, "extra-lines" lets the example print
 *       lines the block leaves out (notes it adds on some runs only).
 *
 * The README may also hold sh blocks (the commands users type). When
 * python3 is installed, one more case runs the seed's Python originals
 * and checks that each C example prints what its original prints. */
#include <stdlib.h>

#include "harness.h"

/* Lines of a text, split in place; a final newline ends the last line. */
struct lines {
	char **v;
	size_t n;
};

static char *slurp(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", CT_SOURCE_DIR, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		ht_fail(__FILE__, __LINE__, "cannot open %s", path);
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap + 1);
			CHECK(buf != NULL);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static struct lines split(char *text)
{
	struct lines l = {NULL, 0};
	size_t cap = 0;
	for (char *p = text; *p;) {
		if (l.n == cap) {
			cap = cap ? 2 * cap : 256;
			l.v = realloc(l.v, cap * sizeof *l.v);
			CHECK(l.v != NULL);
		}
		l.v[l.n++] = p;
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return l;
}

static bool is_excerpt(const struct lines *block, const struct lines *file)
{
	for (size_t at = 0; at + block->n <= file->n; at++) {
		size_t i = 0;
		while (i < block->n && strcmp(block->v[i], file->v[at + i]) == 0)
			i++;
		if (i == block->n)
			return true;
	}
	return false;
}

/* Every number ("12", "3.75") becomes "#", and every run of spaces one
 * space (numbers of another width move the columns), in place. */
static void mask_numbers(char *s)
{
	char *w = s;
	for (const char *r = s; *r;) {
		if (*r >= '0' && *r <= '9') {
			while ((*r >= '0' && *r <= '9') ||
			       (*r == '.' && r[1] >= '0' && r[1] <= '9'))
				r++;
			*w++ = '#';
		} else if (*r == ' ' && w > s && w[-1] == ' ') {
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* One example's output as the docs compare it. */
static char *normalized_output(const char *name, bool any_order, bool numbers_vary)
{
	char *out = ht_run_example(name);
	if (numbers_vary)
		mask_numbers(out);
	if (any_order)
		ht_sort_lines(out);
	return out;
}

static bool has_word(const char *flags, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = strstr(flags, word); p; p = strstr(p + 1, word))
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static bool allowed_source(const char *rel)
{
	static const char *const dirs[] = {"examples/", "tests/consumer/"};
	if (strstr(rel, ".."))
		return false;
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (strncmp(rel, dirs[i], strlen(dirs[i])) == 0)
			return true;
	return false;
}

static void check_excerpt(const char *doc, size_t line, const char *rel, struct lines *block)
{
	if (!allowed_source(rel))
		ht_fail(__FILE__, __LINE__, "%s:%zu: %s is not an example", doc, line, rel);
	char *text = slurp(rel);
	struct lines file = split(text);
	if (!is_excerpt(block, &file))
		ht_fail(__FILE__, __LINE__, "%s:%zu: the block is not a run of lines of %s", doc,
			line, rel);
	free(file.v);
	free(text);
}

/* Whether the lines of @p part appear in @p whole, in order, other lines
 * between them allowed. */
static bool is_subsequence(const char *part, const char *whole)
{
	char *pc = strdup(part), *wc = strdup(whole);
	CHECK(pc != NULL && wc != NULL);
	struct lines p = split(pc), w = split(wc);
	size_t i = 0;
	for (size_t j = 0; i < p.n && j < w.n; j++)
		if (strcmp(p.v[i], w.v[j]) == 0)
			i++;
	bool all = i == p.n;
	free(p.v);
	free(w.v);
	free(pc);
	free(wc);
	return all;
}

static void check_output(const char *doc, size_t line, const char *spec, struct lines *block)
{
	char name[128];
	size_t n = strcspn(spec, " ");
	if (n == 0 || n >= sizeof name)
		ht_fail(__FILE__, __LINE__, "%s:%zu: output of what?", doc, line);
	memcpy(name, spec, n);
	name[n] = '\0';
	bool any_order = has_word(spec + n, "any-order");
	bool numbers_vary = has_word(spec + n, "numbers-vary");
	size_t len = 0;
	for (size_t i = 0; i < block->n; i++)
		len += strlen(block->v[i]) + 1;
	char *want = malloc(len + 1), *p = want;
	CHECK(want != NULL);
	for (size_t i = 0; i < block->n; i++)
		p += sprintf(p, "%s\n", block->v[i]);
	if (numbers_vary)
		mask_numbers(want);
	if (any_order)
		ht_sort_lines(want);
	char *got = normalized_output(name, any_order, numbers_vary);
	if (has_word(spec + n, "extra-lines") ? !is_subsequence(want, got) : strcmp(got, want) != 0)
		ht_fail(__FILE__, __LINE__, "%s:%zu: %s printed\n%s\nthe doc shows\n%s", doc, line,
			name, got, want);
	free(got);
	free(want);
}

/* The marker on the last non-blank line before line @p at, or NULL. */
static const char *marker(const struct lines *doc, size_t at, const char *kind)
{
	while (at > 0 && doc->v[at - 1][0] == '\0')
		at--;
	if (at == 0)
		return NULL;
	const char *l = doc->v[at - 1];
	size_t k = strlen(kind);
	if (strncmp(l, "<!-- ", 5) != 0 || strncmp(l + 5, kind, k) != 0)
		return NULL;
	return l + 5 + k;
}

/* Copies a marker's argument ("examples/x.c" of "<!-- example: examples/x.c -->"). */
static void marker_arg(const char *m, char *buf, size_t size)
{
	const char *end = strstr(m, " -->");
	size_t n = end ? (size_t)(end - m) : 0;
	if (n == 0 || n >= size || end[4] != '\0')
		ht_fail(__FILE__, __LINE__, "malformed marker: %s", m);
	memcpy(buf, m, n);
	buf[n] = '\0';
}

static void check_block(const char *doc, const struct lines *d, size_t fence, struct lines *block,
			bool allow_sh)
{
	const char *lang = d->v[fence] + 3;
	char arg[256];
	if (strcmp(lang, "c") == 0 || strcmp(lang, "cpp") == 0 || strcmp(lang, "python") == 0) {
		const char *m = marker(d, fence, "example: ");
		if (!m)
			ht_fail(__FILE__, __LINE__, "%s:%zu: a %s block without its example", doc,
				fence + 1, lang);
		marker_arg(m, arg, sizeof arg);
		check_excerpt(doc, fence + 1, arg, block);
	} else if (strcmp(lang, "text") == 0) {
		const char *m = marker(d, fence, "output: ");
		if (!m)
			ht_fail(__FILE__, __LINE__, "%s:%zu: a text block without its example", doc,
				fence + 1);
		marker_arg(m, arg, sizeof arg);
		check_output(doc, fence + 1, arg, block);
	} else if (strcmp(lang, "diagram") == 0) {
		/* A picture drawn in characters (architecture.md's layers):
		 * nothing to run, nothing it could disagree with. */
	} else if (!(allow_sh && strcmp(lang, "sh") == 0)) {
		ht_fail(__FILE__, __LINE__, "%s:%zu: a block of kind \"%s\" has no source", doc,
			fence + 1, lang);
	}
}

/* Checks every fenced block of @p doc; returns how many there were. */
static int check_doc(const char *doc, bool allow_sh)
{
	if (ht_sanitized())
		ht_skip("the docs do not depend on the sanitizers");
	char *text = slurp(doc);
	struct lines d = split(text);
	int blocks = 0;
	for (size_t i = 0; i < d.n; i++) {
		if (strncmp(d.v[i], "```", 3) != 0)
			continue;
		size_t end = i + 1;
		while (end < d.n && strcmp(d.v[end], "```") != 0)
			end++;
		if (end == d.n)
			ht_fail(__FILE__, __LINE__, "%s:%zu: unclosed block", doc, i + 1);
		struct lines block = {d.v + i + 1, end - i - 1};
		check_block(doc, &d, i, &block, allow_sh);
		blocks++;
		i = end;
	}
	free(d.v);
	free(text);
	return blocks;
}

TEST(readme)
{
	CHECK(check_doc("README.md", true) >= 2);
}

TEST(tutorial_en)
{
	CHECK(check_doc("docs/tutorial.md", false) >= 14);
}

TEST(tutorial_zh)
{
	CHECK(check_doc("docs/tutorial.zh-CN.md", false) >= 14);
}

TEST(architecture)
{
	CHECK(check_doc("docs/architecture.md", false) >= 1);
}

TEST(python_to_c)
{
	check_doc("docs/python-to-c.md", false);
}

/* The first line from @p i on that opens or closes a block or is a marker. */
static size_t next_fence_or_marker(const struct lines *l, size_t i)
{
	while (i < l->n && strncmp(l->v[i], "```", 3) != 0 && strncmp(l->v[i], "<!-- ", 5) != 0)
		i++;
	return i;
}

/* The tutorials are one text in two languages: the same blocks, in the
 * same order. */
TEST(tutorials_show_the_same_blocks)
{
	if (ht_sanitized())
		ht_skip("the docs do not depend on the sanitizers");
	char *en = slurp("docs/tutorial.md"), *zh = slurp("docs/tutorial.zh-CN.md");
	struct lines a = split(en), b = split(zh);
	size_t i = 0, j = 0;
	for (;;) {
		i = next_fence_or_marker(&a, i);
		j = next_fence_or_marker(&b, j);
		if (i == a.n || j == b.n)
			break;
		if (strcmp(a.v[i], b.v[j]) != 0)
			ht_fail(__FILE__, __LINE__,
				"tutorial.md:%zu \"%s\" vs tutorial.zh-CN.md:%zu \"%s\"", i + 1,
				a.v[i], j + 1, b.v[j]);
		i++;
		j++;
	}
	CHECK(i == a.n && j == b.n);
	free(a.v);
	free(b.v);
	free(en);
	free(zh);
}

/* The first python3 on the PATH, or false. */
static bool find_python(char *buf, size_t size)
{
	const char *path = getenv("PATH");
	while (path && *path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, size, "%.*s/python3", (int)n, path);
		if (n > 0 && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* How a C example's output is compared with its Python original's. */
static const struct original {
	const char *name;
	bool any_order, numbers_vary;
	bool contains; /* the C example prints more: the original's lines are in it */
} originals[] = {
	{"ex1_thread_function", true, false, false},
	{"ex2_thread_subclass", true, false, false},
	{"ex3_stop_flag", false, false, false},
	{"ex4_join_daemon", false, false, false},
	{"ex5_communication", false, false, false},
	{"ex6_flash_sale", true, true, false},
	{"ex7_gil", false, true, true},
};

static char *run_original(const char *python, const struct original *o)
{
	char script[1024];
	snprintf(script, sizeof script, "%s/examples/python/%s.py", CT_SOURCE_DIR, o->name);
	const char *argv[] = {python, script, NULL};
	char *out, *err;
	int status = ht_run(argv, &out, &err);
	if (status != 0 || err[0] != '\0')
		ht_fail(__FILE__, __LINE__, "%s: status %d\n%s", script, status, err);
	free(err);
	if (o->numbers_vary)
		mask_numbers(out);
	if (o->any_order)
		ht_sort_lines(out);
	return out;
}

TEST(c_examples_print_what_the_python_originals_print)
{
	char python[1024];
	if (ht_sanitized())
		ht_skip("the docs do not depend on the sanitizers");
	if (!find_python(python, sizeof python))
		ht_skip("no python3 on the PATH");
	for (size_t i = 0; i < sizeof originals / sizeof *originals; i++) {
		const struct original *o = &originals[i];
		char *c = normalized_output(o->name, o->any_order, o->numbers_vary);
		/* Python's print writes the text and then the newline: two
		 * threads' lines sometimes merge ("线程0线程1", then an empty
		 * line) in a few runs out of ten. Such a run of the original
		 * is run again; C's lines must match one clean run. */
		for (int attempt = 1;; attempt++) {
			char *py = run_original(python, o);
			bool same = o->contains ? strstr(c, py) != NULL : strcmp(c, py) == 0;
			if (!same && (!o->any_order || attempt == 10))
				ht_fail(__FILE__, __LINE__, "%s: C printed\n%s\nPython printed\n%s",
					o->name, c, py);
			free(py);
			if (same)
				break;
		}
		free(c);
	}
}
