# i386 (32-bit x86) with Debian's cross compiler (gcc-i686-linux-gnu). An
# x86-64 kernel runs the results directly, so no emulator is needed.
# (gcc -m32 from gcc-multilib would do too, but Debian's gcc-multilib
# conflicts with the ARM cross compilers, and the matrix wants all three.)
set(CT_CROSS_TRIPLET i686-linux-gnu)
set(CT_CROSS_PROCESSOR i686)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
