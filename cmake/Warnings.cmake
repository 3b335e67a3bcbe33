# Warnings for the project's own code (generated gSOAP code gets agw_generated_flags instead).
set(AGW_WARNINGS
  -Wall -Wextra -Wshadow -Wformat=2 -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
  -Wvla -Wundef -Wcast-align -Wwrite-strings -Wnull-dereference -Wimplicit-fallthrough
  -Wno-unused-parameter)
if(AGW_WERROR)
  list(APPEND AGW_WARNINGS -Werror)
endif()
# _GNU_SOURCE: strdup, strndup, clock_gettime, timegm, getline and friends from glibc.
add_compile_definitions(_GNU_SOURCE)

if(AGW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# Apply the project warnings to a target of our own code.
function(agw_target_warnings target)
  target_compile_options(${target} PRIVATE ${AGW_WARNINGS})
endfunction()
