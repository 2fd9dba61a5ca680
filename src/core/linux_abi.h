/* The few pieces of the Linux system-call ABI the library uses, declared
 * here rather than taken from the kernel's headers (<linux/futex.h>,
 * <linux/membarrier.h>): a musl toolchain (Alpine, Debian's musl-gcc) and
 * some cross toolchains do not see those. The numbers are the kernel's
 * stable ABI (include/uapi/linux/futex.h and membarrier.h), the same on
 * every architecture. The system-call numbers themselves come from the C
 * library's <sys/syscall.h>, which glibc and musl both provide. */
#ifndef CT_CORE_LINUX_ABI_H
#define CT_CORE_LINUX_ABI_H

#include <sys/syscall.h>
#include <time.h>

/* futex(2) operations. */
#define CT__FUTEX_WAKE 1	/* wake up to val sleepers on uaddr */
#define CT__FUTEX_WAIT_BITSET 9 /* FUTEX_WAIT with a mask and an absolute timeout */
/* Or'ed into the operation: the word is never shared with another process,
 * so the kernel keys it by address alone (no page lookup, no mm refcount). */
#define CT__FUTEX_PRIVATE_FLAG 128
/* The bitset of a FUTEX_WAIT_BITSET that any FUTEX_WAKE matches. */
#define CT__FUTEX_BITSET_MATCH_ANY 0xffffffffu

/* The futex system call for this C library's struct timespec. A 32-bit
 * target whose time_t is 64-bit (musl >= 1.2, glibc with _TIME_BITS=64)
 * must use futex_time64: the old futex call reads a 32-bit tv_sec. A
 * target with no 32-bit time at all (riscv32) has futex_time64 only. */
#if defined(SYS_futex_time64) && defined(SYS_futex)
#define CT__SYS_FUTEX (sizeof(time_t) > sizeof(long) ? SYS_futex_time64 : SYS_futex)
#elif defined(SYS_futex)
#define CT__SYS_FUTEX SYS_futex
#else
#define CT__SYS_FUTEX SYS_futex_time64
#endif

/* membarrier(2) commands. */
/* A full memory barrier on every CPU running a thread of this process. */
#define CT__MEMBARRIER_CMD_PRIVATE_EXPEDITED (1 << 3)
/* Registers the process for the command above (once, before any use). */
#define CT__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)

#endif
