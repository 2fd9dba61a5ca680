/* The seed's examples 5 and 6 (and the versions of 5) print what the
 * Python originals print. */
#include <stdlib.h>

#include "harness.h"

static const char seed5[] = "生产前数量 : 0\n"
			    "生产后数量 : 3\n"
			    "消费前数量 : 3\n"
			    "消费后数量 : 0\n";

static char *run_example(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", CT_EXAMPLES_DIR, name);
	const char *argv[] = {path, NULL};
	char *out, *err;
	CHECK_EQ(ht_run(argv, &out, &err), 0);
	CHECK_STR(err, "");
	free(err);
	return out;
}

TEST(ex5_communication)
{
	char *out = run_example("ex5_communication");
	CHECK_STR(out, seed5);
	free(out);
}

TEST(ex5b_event)
{
	for (int i = 0; i < 20; i++) {
		char *out = run_example("ex5b_event");
		CHECK_STR(out, seed5);
		free(out);
	}
}

TEST(ex5c_condition)
{
	static const char want[] = "生产第1件, 数量 : 1\n"
				   "消费第1件, 数量 : 0\n"
				   "生产第2件, 数量 : 1\n"
				   "消费第2件, 数量 : 0\n"
				   "生产第3件, 数量 : 1\n"
				   "消费第3件, 数量 : 0\n"
				   "生产和消费同时进行, 最后数量 : 0\n";
	for (int i = 0; i < 20; i++) {
		char *out = run_example("ex5c_condition");
		CHECK_STR(out, want);
		free(out);
	}
}

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

TEST(ex6_flash_sale)
{
	for (int round = 0; round < 20; round++) {
		char *out = run_example("ex6_flash_sale");
		CHECK_EQ(count(out, "抢购成功\n"), 3);
		CHECK_EQ(count(out, "抢购失败\n"), 7);
		/* Every buyer 0..9 appears exactly once. */
		ht_sort_lines(out);
		char *line = out;
		for (int i = 0; i < 10; i++) {
			char want[32];
			snprintf(want, sizeof want, "子线程%d抢购", i);
			CHECK(strncmp(line, want, strlen(want)) == 0);
			line = strchr(line, '\n') + 1;
		}
		CHECK_STR(line, "");
		free(out);
	}
}
