# agw_embed_data(TARGET FILE SYMBOL): a data file (an event table) compiled into TARGET as the C
# string SYMBOL[] with SYMBOL_size, and installed under share/alarmgw, so the file a site reads and
# the default the program uses are the same text. cmake/Embed.cmake writes the C file.
function(agw_embed_data target file symbol)
  get_filename_component(name ${file} NAME)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${symbol}.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DNAME=${symbol} -P ${PROJECT_SOURCE_DIR}/cmake/Embed.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/Embed.cmake
    COMMENT "embedding ${name}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
  install(FILES ${file} DESTINATION ${CMAKE_INSTALL_DATADIR}/alarmgw)
endfunction()
