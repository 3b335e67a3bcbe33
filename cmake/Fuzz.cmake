# Fuzzing (docs/reliability.md#fuzzing). Every parser that reads outside input has a target in
# tests/fuzz/ that defines LLVMFuzzerTestOneInput. Two ways to build them:
#   -DAGW_FUZZ=ON with CC=clang: the whole tree is instrumented for libFuzzer (fuzzer-no-link,
#     address, undefined) and each target is a libFuzzer binary (bench/fuzz/run drives a campaign);
#   otherwise (the ordinary build, gcc + AGW_SANITIZE): each target is linked with a small driver
#     (tests/fuzz/driver.c) that runs it over its seed corpus, registered as the ctest test
#     fuzz_<name> (label "fuzz"), so CI replays every corpus input and every past crash cheaply.
option(AGW_FUZZ "Build the libFuzzer targets (needs clang, libclang-rt-14-dev)" OFF)

if(AGW_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AGW_FUZZ=ON needs clang: configure with CC=clang (or -DCMAKE_C_COMPILER=clang)")
  endif()
  # Coverage instrumentation everywhere, the fuzzer's main() only in the targets.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(AGW_FUZZING=1)
endif()

set(AGW_FUZZ_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz)

# agw_fuzz_target(NAME SOURCES src... LIBS lib... [DICT file]): one parser's target. Its seed corpus
# is tests/fuzz/corpus/<NAME>/ (and its crash regressions live there too); DICT is a libFuzzer
# dictionary under tests/fuzz/dict/. The binary is fuzz_<NAME> in both builds.
function(agw_fuzz_target name)
  cmake_parse_arguments(F "" "DICT" "SOURCES;LIBS" ${ARGN})
  set(exe fuzz_${name})
  set(corpus ${AGW_FUZZ_DIR}/corpus/${name})
  if(NOT IS_DIRECTORY ${corpus})
    message(FATAL_ERROR "fuzz target ${name}: no seed corpus in ${corpus}")
  endif()
  if(AGW_FUZZ)
    add_executable(${exe} ${F_SOURCES})
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${exe} ${F_SOURCES} ${AGW_FUZZ_DIR}/driver.c)
  endif()
  agw_target_warnings(${exe})
  target_include_directories(${exe} PRIVATE ${AGW_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/include ${AGW_GATEWAY_INCLUDE_DIRS}
    ${PROJECT_SOURCE_DIR}/adapters/rtsp ${PROJECT_SOURCE_DIR}/adapters/onvif)
  target_link_libraries(${exe} PRIVATE ${F_LIBS})
  set(dict "")
  if(F_DICT)
    set(dict ${AGW_FUZZ_DIR}/dict/${F_DICT})
  endif()
  # bench/fuzz/run reads this list: name, binary, corpus, dictionary.
  set_property(GLOBAL APPEND PROPERTY AGW_FUZZ_TARGETS "${name}|$<TARGET_FILE:${exe}>|${corpus}|${dict}")
  if(AGW_FUZZ)
    # The regression run of the instrumented binary: every corpus input once, within the limits
    # of a campaign.
    add_test(NAME fuzz_${name} COMMAND ${exe} -runs=0 -rss_limit_mb=64 -timeout=10 ${corpus})
  else()
    add_test(NAME fuzz_${name} COMMAND ${exe} ${corpus})
  endif()
  set_tests_properties(fuzz_${name} PROPERTIES LABELS "fuzz;unit" TIMEOUT 120
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${AGW_FUZZ_DIR}/lsan.supp")
  if(NOT TARGET fuzz_all)
    add_custom_target(fuzz_all)
  endif()
  add_dependencies(fuzz_all ${exe})
endfunction()

# Writes build/fuzz-targets.txt (one "name|binary|corpus|dict" per line) for bench/fuzz/run.
function(agw_fuzz_write_list)
  get_property(targets GLOBAL PROPERTY AGW_FUZZ_TARGETS)
  string(REPLACE ";" "\n" text "${targets}")
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/fuzz-targets.txt CONTENT "${text}\n")
endfunction()
