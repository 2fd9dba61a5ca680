# Every explicit memory order in src/ and include/ says why it is enough
# (docs/architecture.md, "Memory ordering"): QEMU runs the ARM builds with
# the host's strong ordering, so a too-weak order would pass every test
# there; the comment beside it is what a reviewer checks instead.
#
# A line that names an order -- memory_order_<order>, __ATOMIC_<ORDER>, or
# a bare order argument of the CT__ATOMIC_LOAD / CT__ATOMIC_CAS_* macros of
# include/cthreading/common.h -- passes when it carries a comment itself,
# or when a line above it carries one with only lines of the same
# statement in between. Walking up from the line, a blank line, a
# preprocessor line, or a line whose code (its comments left out) ends
# with ';', '{', '}' or ':' ends the statement before it, so a comment
# trailing the statement before does not count; more than 12 lines is
# too far. seq_cst is checked as well: an explicit seq_cst is on purpose
# and names the access it must be ordered with (an implicit one,
# atomic_load() and friends, is not looked for). The check sees that a
# comment is there, not what it says: that is for review.
#
#   cmake -DSRC=source-dir -P check_memory_order.cmake     (the tree)
#   cmake -DFILES=a.c;b.h -DMIN_SITES=0 -P check_memory_order.cmake
cmake_policy(VERSION 3.16)

if(DEFINED FILES)
  set(files ${FILES})
else()
  file(GLOB_RECURSE files ${SRC}/src/*.c ${SRC}/src/*.h ${SRC}/include/*.h)
endif()
if(NOT DEFINED MIN_SITES)
  # The tree has several hundred; far fewer means the patterns broke.
  set(MIN_SITES 300)
endif()

set(orders "relaxed|consume|acquire|release|acq_rel|seq_cst")
set(site_re
    "memory_order_(${orders})|__ATOMIC_(RELAXED|CONSUME|ACQUIRE|RELEASE|ACQ_REL|SEQ_CST)")
# The macros' bare orders: inside the call's line, or alone at the start
# of a continuation line ("relaxed)))").
set(macro_re "CT__ATOMIC_(LOAD|CAS_WEAK|CAS_STRONG)\\(.*[(,] *(${orders}) *[,)]")
set(cont_re "^[ \t]*(${orders}) *[,)]")

set(sites 0)
set(bad 0)
foreach(f ${files})
  file(READ ${f} text)
  if(NOT text MATCHES "${site_re}|CT__ATOMIC_")
    continue()
  endif()
  # One list element a line: protect what a CMake list would split or
  # group on (';', '[', ']', '\' before them).
  string(REPLACE "\\" "<bs>" text "${text}")
  string(REPLACE ";" "<sc>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(NOT line MATCHES "${site_re}" AND NOT line MATCHES "${macro_re}"
       AND NOT line MATCHES "${cont_re}")
      continue()
    endif()
    math(EXPR sites "${sites} + 1")
    # Walk up from the line itself.
    set(i ${n})
    math(EXPR stop "${n} - 12")
    set(ok FALSE)
    while(i GREATER 0 AND i GREATER stop)
      math(EXPR k "${i} - 1")
      list(GET lines ${k} l)
      string(REGEX REPLACE "<bs>$" "" l "${l}")
      string(STRIP "${l}" l)
      set(comment FALSE)
      if(l MATCHES "/\\*|\\*/|//|^\\*( |$)")
        set(comment TRUE)
      endif()
      if(NOT i EQUAL n)
        # The line's code, without its comments: one that ends a
        # statement ends the search, even with a comment of its own.
        string(REGEX REPLACE "/\\*.*\\*/" "" code "${l}") # whole comments
        if(code MATCHES "\\*/") # the end of one begun above
          string(REGEX REPLACE "^.*\\*/" "" code "${code}")
        elseif(code MATCHES "^\\*( |$)") # the middle of one
          set(code "")
        endif()
        string(REGEX REPLACE "/\\*.*$|//.*$" "" code "${code}") # one begun here
        string(STRIP "${code}" code)
        if(l STREQUAL "" OR code MATCHES "^#|(<sc>|[{}:])$")
          break()
        endif()
      endif()
      if(comment)
        set(ok TRUE)
        break()
      endif()
      math(EXPR i "${i} - 1")
    endwhile()
    if(NOT ok)
      string(REPLACE "<sc>" ";" shown "${line}")
      string(REPLACE "<lb>" "[" shown "${shown}")
      string(REPLACE "<rb>" "]" shown "${shown}")
      string(REPLACE "<bs>" "\\" shown "${shown}")
      string(STRIP "${shown}" shown)
      # One line each (an error message would be wrapped).
      message(STATUS "${f}:${n}: no comment says why this order is enough: ${shown}")
      math(EXPR bad "${bad} + 1")
    endif()
  endforeach()
endforeach()
if(sites LESS MIN_SITES)
  message(FATAL_ERROR "only ${sites} memory orders found: the patterns are broken")
endif()
message(STATUS "${sites} explicit memory orders, ${bad} without a comment")
if(bad GREATER 0)
  message(FATAL_ERROR "${bad} memory orders without a comment (listed above)")
endif()
