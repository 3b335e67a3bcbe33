# Writes the file IN as a C string constant NAME[] (and NAME_size) into OUT (cmake -P): the
# default event tables are data, compiled in.
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
get_filename_component(src ${IN} NAME)
file(WRITE ${OUT} "/* generated from ${src} by embed.cmake */\n#include <stddef.h>\n"
  "extern const char ${NAME}[];\nextern const size_t ${NAME}_size;\n"
  "const char ${NAME}[] = {${bytes}0x00};\n"
  "const size_t ${NAME}_size = sizeof(${NAME}) - 1;\n")
