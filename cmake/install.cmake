# Install rules: headers, both libraries, pkg-config and the CMake package.
#
#   find_package(cthreading 0.1 CONFIG REQUIRED)
#   target_link_libraries(app cthreading::cthreading)   # shared
#   target_link_libraries(app cthreading::static)       # static
#
#   cc app.c $(pkg-config --cflags --libs cthreading)
#   cc -static-pie app.c $(pkg-config --static --cflags --libs cthreading)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(TARGETS cthreading_static cthreading_shared
        EXPORT cthreadingTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(CT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cthreading)
install(EXPORT cthreadingTargets NAMESPACE cthreading:: DESTINATION ${CT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cthreadingConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cthreadingConfig.cmake INSTALL_DESTINATION ${CT_CMAKE_DIR})
# While the major version is 0 each minor version may break the API, so a
# request for 0.1 must not be satisfied by 0.2; from 1.0 on, the major
# version carries that promise.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(CT_COMPATIBILITY SameMinorVersion)
else()
  set(CT_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cthreadingConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${CT_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/cthreadingConfig.cmake
              ${PROJECT_BINARY_DIR}/cthreadingConfigVersion.cmake
        DESTINATION ${CT_CMAKE_DIR})

# The .pc file finds its prefix relative to itself, so that an install
# moved elsewhere (cmake --install --prefix, make install PREFIX=) works.
set(CT_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH CT_PC_TO_PREFIX /${CT_PC_DIR} /)
string(REGEX REPLACE "/$" "" CT_PC_TO_PREFIX "${CT_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/cthreading.pc.in
               ${PROJECT_BINARY_DIR}/cthreading.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cthreading.pc DESTINATION ${CT_PC_DIR})
