# The shared library exports the public API and nothing else: every
# exported symbol starts with "ct_", none with the internal "ct__".
#   cmake -DLIB=path/to/libcthreading.so -P check_exports.cmake
execute_process(COMMAND nm -D --defined-only ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIB}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(count 0)
foreach(line ${lines})
  string(REGEX REPLACE "^.* ([^ ]+)$" "\\1" sym "${line}")
  if(NOT sym MATCHES "^ct_" OR sym MATCHES "^ct__")
    message(SEND_ERROR "exported symbol outside the public API: ${sym}")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
foreach(required ct_thread_start ct_lock_acquire_slow ct_strerror ct_version
                 ct_gil_checkpoint_slow ct_gil_tls_breaker)
  if(NOT out MATCHES " ${required}\n")
    message(SEND_ERROR "public symbol not exported: ${required}")
  endif()
endforeach()
message(STATUS "${count} exported symbols, all ct_")
