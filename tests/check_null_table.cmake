# Every public function that takes a pointer has a case in the NULL table
# (TEST(null_<name without ct_>) in tests/test_null*.c): "a NULL object is
# always CT_EINVAL, never a crash" holds for the functions added tomorrow
# too, not only for those that were checked once.
#   cmake -DSRC=path/to/source -P check_null_table.cmake
file(GLOB headers ${SRC}/include/cthreading/*.h)
file(GLOB tables ${SRC}/tests/test_null*.c)
set(cases "")
foreach(t ${tables})
  file(READ ${t} text)
  string(REGEX MATCHALL "\nTEST\\(null_[a-z0-9_]+\\)" found "${text}")
  string(APPEND cases "${found}")
endforeach()

set(checked 0)
set(missing 0)
foreach(h ${headers})
  file(READ ${h} text)
  # Declarations are one statement each, possibly over several lines:
  # "CT_API type name(params);" and "static inline type name(params)".
  string(REGEX MATCHALL "(CT_API|static inline)[^;{#(]*[ *](ct_[a-z0-9_]+)\\(([^)]*)\\)" decls "${text}")
  foreach(d ${decls})
    string(REGEX MATCH "[ *](ct_[a-z0-9_]+)\\(([^)]*)\\)" _ "${d}")
    set(name ${CMAKE_MATCH_1})
    set(params "${CMAKE_MATCH_2}")
    if(name MATCHES "^ct__" OR NOT params MATCHES "\\*")
      continue()
    endif()
    string(REGEX REPLACE "^ct_" "" short ${name})
    math(EXPR checked "${checked} + 1")
    if(NOT cases MATCHES "\nTEST\\(null_${short}\\)")
      message(SEND_ERROR "${name} (${h}) has no case TEST(null_${short}) in tests/test_null*.c")
      math(EXPR missing "${missing} + 1")
    endif()
  endforeach()
endforeach()
if(checked LESS 100)
  message(FATAL_ERROR "only ${checked} public functions with pointers found: the pattern is broken")
endif()
message(STATUS "${checked} public functions taking pointers, ${missing} without a NULL case")
