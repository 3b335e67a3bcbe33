# Writes the file IN as a C string constant agw_onvif_topics_data[] into OUT (cmake -P).
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "/* generated from onvif-topics.conf by embed.cmake */\n#include <stddef.h>\n"
  "extern const char agw_onvif_topics_data[];\nextern const size_t agw_onvif_topics_size;\n"
  "const char agw_onvif_topics_data[] = {${bytes}0x00};\n"
  "const size_t agw_onvif_topics_size = sizeof(agw_onvif_topics_data) - 1;\n")
