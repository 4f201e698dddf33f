# The example strategies (examples/strategies/, examples/README.md), built two ways from the same
# C source:
#   strategies/NAME.wasm  for wasm32-wasi with clang and wasi-libc (a WASI reactor), then
#   strategies/NAME.so    by the project's own `plurigrid wasm build`: the shared object a node
#                         config's wasm controller names as its "strategy";
#   pg_strategies_native  natively, with the shim examples/strategies/native.c that answers the
#                         ABI's imports as the sandbox's host does: the tests and the benchmark
#                         of the sandbox compare the module's bids with these, bit for bit.
# Building for wasm32-wasi needs clang with the WebAssembly target, lld, wasi-libc and
# compiler-rt's wasm32 builtins (Debian: clang lld wasi-libc libclang-rt-14-dev-wasm32, which
# scripts/deps.sh installs). Configure tries it once on a small program and says what is
# missing; without it the modules are not built and the tests that need them fail naming the
# packages (they never skip).
set(PG_STRATEGY_NAMES threshold forecast)
set(PG_STRATEGY_SRC ${CMAKE_SOURCE_DIR}/examples/strategies)
set(PG_STRATEGY_OUT ${CMAKE_BINARY_DIR}/strategies)
set(PG_WASI_SYSROOT /usr CACHE PATH "The wasi-libc sysroot (Debian's wasi-libc: /usr)")
find_program(PG_WASM_CLANG NAMES clang clang-16 clang-15 clang-14
             DOC "clang able to target wasm32-wasi (the example strategies)")

set(PG_WASM_CFLAGS --target=wasm32-wasi --sysroot=${PG_WASI_SYSROOT} -mexec-model=reactor -O2
    -Wall -Wextra -Werror -I${CMAKE_SOURCE_DIR}/include -I${PG_STRATEGY_SRC})
set(PG_WASM_STRATEGIES OFF)
set(PG_WASM_STRATEGIES_WHY "clang is not installed (Debian: clang lld wasi-libc libclang-rt-14-dev-wasm32)")
if(PG_WASM_CLANG)
    file(MAKE_DIRECTORY ${PG_STRATEGY_OUT})
    file(WRITE ${PG_STRATEGY_OUT}/probe.c
         "#include <stdint.h>\n#include <string.h>\n"
         "__attribute__((export_name(\"f\"))) int32_t f(void);\n"
         "int32_t f(void) { static char b[8]; memset(b, 1, sizeof b); return b[3]; }\n")
    execute_process(COMMAND ${PG_WASM_CLANG} ${PG_WASM_CFLAGS} ${PG_STRATEGY_OUT}/probe.c
                            -o ${PG_STRATEGY_OUT}/probe.wasm
                    RESULT_VARIABLE probe_rc ERROR_VARIABLE probe_err OUTPUT_QUIET)
    if(probe_rc EQUAL 0)
        set(PG_WASM_STRATEGIES ON)
    else()
        string(STRIP "${probe_err}" probe_err)
        set(PG_WASM_STRATEGIES_WHY "${PG_WASM_CLANG} cannot build for wasm32-wasi (Debian: clang lld wasi-libc libclang-rt-14-dev-wasm32): ${probe_err}")
        string(REPLACE "\"" "'" PG_WASM_STRATEGIES_WHY "${PG_WASM_STRATEGIES_WHY}")
        string(REPLACE "\n" " " PG_WASM_STRATEGIES_WHY "${PG_WASM_STRATEGIES_WHY}")
    endif()
endif()

set(PG_STRATEGY_SOS)
if(PG_WASM_STRATEGIES)
    message(STATUS "Example strategies: built for wasm32-wasi with ${PG_WASM_CLANG}")
    foreach(s ${PG_STRATEGY_NAMES})
        add_custom_command(OUTPUT ${PG_STRATEGY_OUT}/${s}.wasm
            COMMAND ${PG_WASM_CLANG} ${PG_WASM_CFLAGS} ${PG_STRATEGY_SRC}/${s}.c
                    -o ${PG_STRATEGY_OUT}/${s}.wasm
            DEPENDS ${PG_STRATEGY_SRC}/${s}.c ${PG_STRATEGY_SRC}/strategy.h
                    ${CMAKE_SOURCE_DIR}/include/plurigrid/wasm_guest.h
            COMMENT "Compiling the example strategy ${s} for wasm32-wasi" VERBATIM)
        add_custom_command(OUTPUT ${PG_STRATEGY_OUT}/${s}.so
            COMMAND $<TARGET_FILE:plurigrid_cli> wasm build ${PG_STRATEGY_OUT}/${s}.wasm
                    -o ${PG_STRATEGY_OUT}/${s}.so
            DEPENDS ${PG_STRATEGY_OUT}/${s}.wasm plurigrid_cli plurigrid plurigrid_sandbox
            COMMENT "Building the example strategy ${s} into a sandboxed shared object" VERBATIM)
        list(APPEND PG_STRATEGY_SOS ${PG_STRATEGY_OUT}/${s}.so)
    endforeach()
else()
    message(WARNING "Example strategies: not built for wasm32-wasi: ${PG_WASM_STRATEGIES_WHY}. "
                    "The tests that run them will fail.")
endif()
add_custom_target(pg_strategies ALL DEPENDS ${PG_STRATEGY_SOS})

# The same sources natively, each strategy's exports renamed so that both link into one program.
add_library(pg_strategies_native STATIC ${PG_STRATEGY_SRC}/native.c)
foreach(s ${PG_STRATEGY_NAMES})
    target_sources(pg_strategies_native PRIVATE ${PG_STRATEGY_SRC}/${s}.c)
    set_source_files_properties(${PG_STRATEGY_SRC}/${s}.c PROPERTIES COMPILE_DEFINITIONS
        "pg_init=${s}_init;pg_on_interval=${s}_on_interval;pg_on_dr_event=${s}_on_dr_event")
endforeach()
target_include_directories(pg_strategies_native PUBLIC ${PG_STRATEGY_SRC} ${CMAKE_SOURCE_DIR}/include)
target_compile_options(pg_strategies_native PRIVATE ${PG_WARNINGS})
target_link_libraries(pg_strategies_native PUBLIC plurigrid_static m)
if(PG_WASM_STRATEGIES)
    set(pg_ws 1)
else()
    set(pg_ws 0)
endif()
# What a test or benchmark that runs the modules needs to know.
target_compile_definitions(pg_strategies_native PUBLIC
    PG_WASM_STRATEGIES=${pg_ws}
    PG_WASM_STRATEGIES_DIR="${PG_STRATEGY_OUT}"
    PG_WASM_STRATEGIES_WHY="${PG_WASM_STRATEGIES_WHY}")
