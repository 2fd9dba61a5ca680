# The part every Debian cross toolchain file here shares: CT_CROSS_TRIPLET
# (e.g. aarch64-linux-gnu) names the compiler (gcc-<triplet>, Debian's
# package of the same name) and the target's C library (/usr/<triplet>,
# Debian's libc6-dev-*-cross); CT_CROSS_PROCESSOR the processor.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${CT_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${CT_CROSS_TRIPLET}-gcc)
# Not installed with the C compiler: the C++ tests then say "skipped".
set(CMAKE_CXX_COMPILER ${CT_CROSS_TRIPLET}-g++)
set(CMAKE_FIND_ROOT_PATH /usr/${CT_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
