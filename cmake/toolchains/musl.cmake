# musl libc (as on Alpine) with Debian's musl-gcc wrapper (musl-tools):
# the same machine, another C library. musl-gcc hides the glibc headers,
# the kernel's among them, so this build also proves the library needs none.
set(CMAKE_C_COMPILER musl-gcc)
# musl-tools has no C++ library: the C++ tests say "skipped".
set(CMAKE_CXX_COMPILER musl-g++)
