# 32-bit ARM, hard float (armhf, ARMv7) with Debian's cross compiler
# (gcc-arm-linux-gnueabihf); the tests run under qemu-user. As for aarch64,
# QEMU does not reproduce ARM's weak memory ordering.
set(CT_CROSS_TRIPLET arm-linux-gnueabihf)
set(CT_CROSS_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/${CT_CROSS_TRIPLET})
