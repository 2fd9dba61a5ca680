# make package: a Debian package and a tarball of what `make install`
# installs, with CPack (cpack -G "DEB;TGZ" in a configured build folder).
# The package installs under /usr: the library, its headers, the pkg-config
# file and the CMake package, so that `cc app.c $(pkg-config --cflags
# --libs cthreading)` and find_package(cthreading) work once it is in.
set(CPACK_PACKAGE_NAME libcthreading-dev)
set(CPACK_PACKAGE_VENDOR cthreading)
set(CPACK_PACKAGE_CONTACT "cthreading maintainers <cthreading@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_STRIP_FILES OFF)
# The tarball: one top folder named after the package, version and target.
set(CPACK_PACKAGE_FILE_NAME
    "cthreading-${PROJECT_VERSION}-${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}")

# Debian's name for the target, which is not the build machine's in a
# cross build (dpkg --print-architecture, CPack's default, names the host).
set(ct_deb_arch_amd64 x86_64 AMD64)
set(ct_deb_arch_i386 i386 i486 i586 i686)
set(ct_deb_arch_arm64 aarch64 arm64)
set(ct_deb_arch_armhf arm armv7l armv7-a)
foreach(arch amd64 i386 arm64 armhf)
  if(CMAKE_SYSTEM_PROCESSOR IN_LIST ct_deb_arch_${arch})
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${arch})
  endif()
endforeach()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Python's threading, queue and concurrent.futures in C11, for C programs.
Threads with names, stop requests and timeouts on every blocking call;
Lock, RLock, Condition, Semaphore, Event, Barrier, Timer, queues, a
thread pool with futures, and a GIL runtime. This package holds the
shared and static libraries, the headers, the pkg-config file and the
CMake package.")
include(CPack)
