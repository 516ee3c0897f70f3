# SPDX-License-Identifier: MIT
# Turns the dashboard's page into C arrays, so the program serves it with
# no files beside it:  cmake -DDIR=<examples/dashboard> -DOUT=<file.c> -P embed.cmake
# Each FILE.EXT becomes dash_FILE_EXT[] and dash_FILE_EXT_len.
set(files index.html dashboard.js dashboard.css)
set(out "/* Generated from examples/dashboard by embed.cmake: do not edit. */\n#include <stddef.h>\n")
foreach(f ${files})
  file(READ ${DIR}/${f} hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR n "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  string(MAKE_C_IDENTIFIER "dash_${f}" name)
  string(APPEND out "const unsigned char ${name}[] = {\n${bytes}0};\n")
  string(APPEND out "const size_t ${name}_len = ${n};\n")
endforeach()
file(WRITE ${OUT}.tmp "${out}")
# Rewrite only on change, so an unchanged page does not relink.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.tmp)
