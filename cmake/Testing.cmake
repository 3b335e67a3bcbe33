# agw_unit_test(NAME SOURCES src... LIBS lib...): a cmocka test registered with ctest, label "unit".
function(agw_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  agw_target_warnings(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  target_compile_definitions(${name} PRIVATE AGW_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
endfunction()

# agw_integration_test(NAME SCRIPT [TIMEOUT s]): a python3 test script run against the built tree.
function(agw_integration_test name script)
  cmake_parse_arguments(T "" "TIMEOUT" "" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  add_test(NAME ${name} COMMAND ${Python3_EXECUTABLE} -u ${script})
  # Exit code 77 means skipped (a tool the test needs is missing): reported as such, not passed.
  set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "AGW_BUILD_DIR=${PROJECT_BINARY_DIR};AGW_SOURCE_DIR=${PROJECT_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1;PYTHONPATH=${PROJECT_SOURCE_DIR}/tests/integration:${PROJECT_SOURCE_DIR}/tests/unit/mqtt")
endfunction()
