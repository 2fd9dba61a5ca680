/* The seed's examples, run as programs: each prints what the Python
 * original prints. */
#include <stdlib.h>

#include "harness.h"

TEST(ex1_thread_function)
{
	ht_check_example("ex1_thread_function", true, "线程0\n线程1\n线程2\n线程3\n线程4\n");
}

TEST(ex2_thread_subclass)
{
	ht_check_example("ex2_thread_subclass", true, "线程0\n线程1\n线程2\n线程3\n线程4\n");
}

TEST(ex3_stop_flag)
{
	ht_check_example("ex3_stop_flag", false, "线程1\n");
}

TEST(ex3b_stop_request)
{
	static const char head[] = "线程1\n停止用时 ";
	static const char tail[] = " 毫秒（标志位方式最多要等 1000 毫秒）\n";
	char *out = ht_run_example("ex3b_stop_request");
	CHECK(strncmp(out, head, strlen(head)) == 0);
	char *number = out + strlen(head), *end;
	double ms = strtod(number, &end);
	CHECK(end > number && ms >= 0);
	CHECK_STR(end, tail);
	free(out);
}

TEST(ex4_join_daemon)
{
	ht_check_example("ex4_join_daemon", false,
			 "主线程开始\n"
			 "子线程 1 阻塞\n"
			 "子线程1执行\n"
			 "子线程 1 是否存活: False\n"
			 "主线程结束\n");
}
