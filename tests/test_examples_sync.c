/* The seed's examples 5 and 6 (and the versions of 5) print what the
 * Python originals print. */
#include <stdlib.h>

#include "harness.h"

static const char seed5[] = "生产前数量 : 0\n"
			    "生产后数量 : 3\n"
			    "消费前数量 : 3\n"
			    "消费后数量 : 0\n";

TEST(ex5_communication)
{
	ht_check_example("ex5_communication", false, seed5);
}

TEST(ex5b_event)
{
	for (int i = 0; i < 20; i++)
		ht_check_example("ex5b_event", false, seed5);
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
	for (int i = 0; i < 20; i++)
		ht_check_example("ex5c_condition", false, want);
}

TEST(ex6_flash_sale)
{
	for (int round = 0; round < 20; round++) {
		char *out = ht_run_example("ex6_flash_sale");
		CHECK_EQ(ht_count(out, "抢购成功\n"), 3);
		CHECK_EQ(ht_count(out, "抢购失败\n"), 7);
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
