/* The queue example (线程间通信 through a Queue) prints what its Python
 * version prints: the seed's four counts in place, every product made once
 * and consumed once, every consumer leaving at the shutdown. */
#include <stdlib.h>

#include "harness.h"

#define MAX_LINES 64

static int split_lines(char *s, char **lines)
{
	int n = 0;
	for (char *save, *l = strtok_r(s, "\n", &save); l && n < MAX_LINES;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts lines[from, from + n) and checks them against want (sorted). */
static void check_block(char **lines, int from, int n, const char *const *want)
{
	qsort(lines + from, (size_t)n, sizeof *lines, cmp_str);
	for (int i = 0; i < n; i++)
		CHECK_STR(lines[from + i], want[i]);
}

static const char *const produced[] = {
	"生产者1 生产了 产品1-1", "生产者1 生产了 产品1-2", "生产者1 生产了 产品1-3",
	"生产者2 生产了 产品2-1", "生产者2 生产了 产品2-2", "生产者2 生产了 产品2-3",
};

static const char *const products[] = {
	"产品1-1", "产品1-2", "产品1-3", "产品2-1", "产品2-2", "产品2-3",
};

static const char *const left[] = {
	"消费者1 退出: 队列已关闭",
	"消费者2 退出: 队列已关闭",
	"消费者3 退出: 队列已关闭",
};

static void check_run(void)
{
	char *out = ht_run_example("ex5d_queue");
	char *lines[MAX_LINES];
	CHECK_EQ(split_lines(out, lines), 19);
	CHECK_STR(lines[0], "生产前数量 : 0");
	/* Each producer's own lines come in its order. */
	for (int p = 1; p <= 2; p++) {
		int last = 0;
		for (int i = 1; i <= 6; i++) {
			char prefix[32];
			snprintf(prefix, sizeof prefix, "生产者%d", p);
			if (strncmp(lines[i], prefix, strlen(prefix)) == 0) {
				int j = lines[i][strlen(lines[i]) - 1] - '0';
				CHECK_EQ(j, last + 1);
				last = j;
			}
		}
	}
	check_block(lines, 1, 6, produced);
	CHECK_STR(lines[7], "生产后数量 : 6");
	CHECK_STR(lines[8], "消费前数量 : 6");
	/* "消费者K 消费了 产品i-j": any consumer, every product once. */
	const char *got[6];
	for (int i = 0; i < 6; i++) {
		char *l = lines[9 + i];
		CHECK(strncmp(l, "消费者", strlen("消费者")) == 0);
		char k = l[strlen("消费者")];
		CHECK(k >= '1' && k <= '3');
		char *item = strstr(l, " 消费了 ");
		CHECK(item != NULL);
		got[i] = item + strlen(" 消费了 ");
	}
	qsort(got, 6, sizeof *got, cmp_str);
	for (int i = 0; i < 6; i++)
		CHECK_STR(got[i], products[i]);
	CHECK_STR(lines[15], "消费后数量 : 0");
	check_block(lines, 16, 3, left);
	free(out);
}

TEST(ex5d_queue_output)
{
	for (int i = 0; i < 5; i++)
		check_run();
}
