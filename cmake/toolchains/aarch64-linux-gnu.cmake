# 64-bit ARM (arm64) with Debian's cross compiler (gcc-aarch64-linux-gnu);
# the tests run under qemu-user. QEMU runs the target's code, atomics and
# futex calls, but not its weak memory ordering: the comments on each
# atomic's ordering in src/ say why it is enough.
set(CT_CROSS_TRIPLET aarch64-linux-gnu)
set(CT_CROSS_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/${CT_CROSS_TRIPLET})
