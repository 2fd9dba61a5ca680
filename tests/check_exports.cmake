# The shared library exports the public API and nothing else: every
# exported symbol starts with "ct_"; the only "ct__" ones are the slow paths
# and the thread-local word that the headers' inline fast paths reach
# (docs/architecture.md, "The inline fast paths are ABI"), listed here so
# that no other internal can leak out unseen.
#   cmake -DLIB=path/to/libcthreading.so -P check_exports.cmake
set(abi_internals ct__lock_acquire_slow ct__lock_release_slow ct__once_slow
    ct__rwlock_read_acquire_slow ct__rwlock_read_release_slow
    ct__semaphore_acquire_slow ct__gil_checkpoint_slow ct__gil_tls_breaker
    ct__lock_try_acquire_slow ct__debug_flags ct__debug_destroyed)
execute_process(COMMAND nm -D --defined-only ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIB}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(count 0)
foreach(line ${lines})
  string(REGEX REPLACE "^.* ([^ ]+)$" "\\1" sym "${line}")
  list(FIND abi_internals ${sym} abi)
  if(sym STREQUAL "_init" OR sym STREQUAL "_fini")
    # The ELF init and fini entry points of the C runtime's crti.o, which
    # musl's toolchain leaves global (glibc's hides them): not ours.
    continue()
  elseif(NOT sym MATCHES "^ct_")
    message(SEND_ERROR "exported symbol outside the public API: ${sym}")
  elseif(sym MATCHES "^ct__" AND abi EQUAL -1)
    message(SEND_ERROR "internal symbol exported: ${sym} (not one the inline fast paths need)")
  elseif(sym MATCHES "^ct_[a-z].*_slow$")
    message(SEND_ERROR "a slow path under a public name: ${sym} (internals are ct__)")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
foreach(required ct_thread_start ct_strerror ct_err_name ct_version ${abi_internals})
  if(NOT out MATCHES " ${required}\n")
    message(SEND_ERROR "symbol not exported: ${required}")
  endif()
endforeach()
message(STATUS "${count} exported symbols, all ct_, internals only those the headers need")
