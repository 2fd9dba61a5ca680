// The layout table of cxx_layout.c, compiled as C++ (ct_layout_cxx).
#include "cxx_layout.c"
