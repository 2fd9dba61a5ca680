# The layering rule of src/ (docs/architecture.md): a layer may include and
# call only its own layer and the ones below it, never one above.
#
#   core 0 <- park 1 <- sync 2 <- thread 3 <- queue 4, futures 4 <- gil 5, debug 5
#
# Two checks, so that neither an #include nor a call can cross upward
# unseen:
#  - every #include "..." of a file in src/<layer>/ names a file of a layer
#    at or below it;
#  - every symbol an object file of a layer leaves undefined (nm -u) and
#    the library defines is defined by an object of a layer at or below it.
#
#   cmake -DSRC=source-dir -DOBJ=dir-of-the-library-objects -P check_layers.cmake
set(rank_core 0)
set(rank_park 1)
set(rank_sync 2)
set(rank_thread 3)
set(rank_queue 4)
set(rank_futures 4)
set(rank_gil 5)
set(rank_debug 5)

function(layer_of path out)
  if(path MATCHES "(^|/)src/([a-z]+)/")
    set(${out} ${CMAKE_MATCH_2} PARENT_SCOPE)
  elseif(path MATCHES "^([a-z]+)/")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

set(errors 0)

# Reports a crossing (@p key: "file -> what it includes or calls").
function(crossing key message)
  message(SEND_ERROR "${message}")
  math(EXPR e "${errors} + 1")
  set(errors ${e} PARENT_SCOPE)
endfunction()

# ---- includes ----
file(GLOB_RECURSE sources ${SRC}/src/*.c ${SRC}/src/*.h)
set(nsources 0)
foreach(f ${sources})
  file(RELATIVE_PATH rel ${SRC} ${f})
  layer_of(${rel} layer)
  if(NOT DEFINED rank_${layer})
    message(SEND_ERROR "${rel}: not in a layer's folder (core, park, sync, gil, thread, queue, futures)")
    math(EXPR errors "${errors} + 1")
    continue()
  endif()
  math(EXPR nsources "${nsources} + 1")
  file(STRINGS ${f} includes REGEX "^#include \"")
  foreach(line ${includes})
    string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" inc "${line}")
    if(inc MATCHES "^cthreading")
      continue() # the public headers: the API every layer implements
    endif()
    if(inc MATCHES "\\.\\./")
      message(SEND_ERROR "${rel}: #include \"${inc}\": name it from src/ (\"layer/file.h\")")
      math(EXPR errors "${errors} + 1")
      continue()
    endif()
    layer_of(${inc} target)
    if(target STREQUAL "")
      set(target ${layer}) # a file beside it
    endif()
    if(NOT DEFINED rank_${target})
      message(SEND_ERROR "${rel}: #include \"${inc}\" names no layer")
      math(EXPR errors "${errors} + 1")
    elseif(rank_${target} GREATER rank_${layer})
      crossing("${rel} -> ${inc}"
               "${rel} (${layer}) includes \"${inc}\" of the higher layer ${target}")
    endif()
  endforeach()
endforeach()
if(nsources LESS 20)
  message(FATAL_ERROR "only ${nsources} sources found under ${SRC}/src: the layout has changed")
endif()

# ---- calls ----
file(GLOB_RECURSE objects ${OBJ}/*.o)
set(nobjects 0)
foreach(o ${objects})
  layer_of(${o} layer)
  if(NOT DEFINED rank_${layer})
    continue()
  endif()
  # An object whose source is gone (moved or deleted since the build
  # folder was made) is no longer part of the library.
  string(REGEX REPLACE "^.*/src/(.*)\\.o$" "\\1" source ${o})
  if(NOT EXISTS ${SRC}/src/${source})
    continue()
  endif()
  math(EXPR nobjects "${nobjects} + 1")
  execute_process(COMMAND nm --defined-only -g ${o} OUTPUT_VARIABLE defs)
  string(REGEX MATCHALL "[^\n]+" lines "${defs}")
  foreach(l ${lines})
    string(REGEX REPLACE "^.* ([^ ]+)$" "\\1" sym "${l}")
    set(def_${sym} ${layer})
  endforeach()
  set(obj_${nobjects} ${o})
endforeach()
if(nobjects LESS 20)
  message(FATAL_ERROR "only ${nobjects} objects found under ${OBJ}")
endif()
foreach(i RANGE 1 ${nobjects})
  set(o ${obj_${i}})
  layer_of(${o} layer)
  execute_process(COMMAND nm -u ${o} OUTPUT_VARIABLE undefs)
  string(REGEX MATCHALL "[^\n]+" lines "${undefs}")
  foreach(l ${lines})
    string(REGEX REPLACE "^.* ([^ ]+)$" "\\1" sym "${l}")
    if(NOT DEFINED def_${sym})
      continue() # libc, pthreads, the compiler's runtime
    endif()
    set(target ${def_${sym}})
    if(rank_${target} GREATER rank_${layer})
      get_filename_component(name ${o} NAME)
      crossing("${layer}/${name} -> ${sym}"
               "${layer}/${name} calls ${sym}, defined in the higher layer ${target}")
    endif()
  endforeach()
endforeach()

if(errors GREATER 0)
  message(FATAL_ERROR "${errors} errors in the layering")
endif()
message(STATUS "${nsources} sources and ${nobjects} objects keep to their layers")
