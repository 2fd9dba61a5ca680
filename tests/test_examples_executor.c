/* The flash-sale example on the executor prints what the lesson promises. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TEST(flash_sale_on_a_pool)
{
	char *out = ht_run_example("ex6b_executor");
	CHECK_EQ(ht_count(out, "抢购成功\n"), 3);
	CHECK_EQ(ht_count(out, "抢购失败\n"), 7);
	/* Each buyer once. */
	for (int i = 0; i < 10; i++) {
		char ok[32], ko[32];
		snprintf(ok, sizeof ok, "子线程%d抢购成功\n", i);
		snprintf(ko, sizeof ko, "子线程%d抢购失败\n", i);
		CHECK_EQ(ht_count(out, ok) + ht_count(out, ko), 1);
	}
	/* Then the summary, last. */
	const char *summary = "10 位买家：3 人抢购成功，7 人抢购失败，剩余 0 件\n";
	size_t n = strlen(out), m = strlen(summary);
	CHECK(n >= m && strcmp(out + n - m, summary) == 0);
	CHECK_EQ(ht_count(out, "\n"), 11);
	free(out);
}
