# cmake -P script behind the find_package_consumer test:
#   1. install SWITCHBOARD_BUILD_DIR into WORK_DIR/prefix,
#   2. configure CONSUMER_SOURCE_DIR against that prefix,
#   3. build it, 4. run it (EXE_NAME, default switchboard_consumer).
# Any failing step fails the test.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS SWITCHBOARD_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer_test.cmake: ${var} is not set")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step name)
  message(STATUS "find_package_consumer: ${name}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "find_package_consumer: step '${name}' failed (${rc})")
  endif()
endfunction()

set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()

run_step(install
  "${CMAKE_COMMAND}" --install "${SWITCHBOARD_BUILD_DIR}" --prefix "${prefix}" ${config_args})

set(configure_args
  -S "${CONSUMER_SOURCE_DIR}"
  -B "${consumer_build}"
  "-DCMAKE_PREFIX_PATH=${prefix}")
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(C_COMPILER)
  list(APPEND configure_args "-DCMAKE_C_COMPILER=${C_COMPILER}")
endif()
if(CONFIG)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
# Same flags as the Switchboard build, so sanitizer builds link.
list(APPEND configure_args
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")

run_step(configure "${CMAKE_COMMAND}" ${configure_args})
run_step(build "${CMAKE_COMMAND}" --build "${consumer_build}" ${config_args})

if(NOT EXE_NAME)
  set(EXE_NAME switchboard_consumer)
endif()
find_program(consumer_exe ${EXE_NAME}
  PATHS "${consumer_build}" "${consumer_build}/${CONFIG}"
  NO_DEFAULT_PATH REQUIRED)
run_step(run "${consumer_exe}")
message(STATUS "find_package_consumer: passed")
