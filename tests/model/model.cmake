# SPDX-License-Identifier: MIT
# The model tests (tests/model): rill's wait/wake protocols under relacy
# (Debian's relacy-dev, header-only C++), through the seam in
# src/core/atomic.h. Built when relacy and a C++ compiler are found, in the
# plain native builds only (a sanitizer or a cross build gains nothing here
# and relacy's fibers do not mix with sanitizers). Included from the top
# CMakeLists.txt (enable_language must be called at the top level).
option(RILL_MODEL "Build the relacy model tests (tests/model) if relacy is found" ON)
set(rill_model_ok OFF)
if(RILL_MODEL AND RILL_SANITIZE STREQUAL "" AND NOT RILL_FUZZ AND NOT CMAKE_CROSSCOMPILING
   AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
  find_path(RELACY_INCLUDE_DIR relacy/relacy.hpp)
  include(CheckLanguage)
  check_language(CXX)
  if(RELACY_INCLUDE_DIR AND CMAKE_CXX_COMPILER)
    set(rill_model_ok ON)
  else()
    message(NOTICE "rill: relacy (relacy-dev) or a C++ compiler not found: the "
            "model tests (tests/model) are not built; scripts/deps.sh test installs them")
  endif()
endif()

if(rill_model_ok)
  enable_language(CXX)
  set(model_dir ${CMAKE_CURRENT_SOURCE_DIR}/tests/model)
  # rill's core, sync and rt layers, every atomic through the model (futex.c
  # is replaced by model_rt.cpp's relacy futex).
  file(GLOB rill_model_sources CONFIGURE_DEPENDS src/core/*.c src/sync/*.c src/rt/*.c)
  list(FILTER rill_model_sources EXCLUDE REGEX "/src/rt/futex\\.c$")
  list(APPEND rill_model_sources ${RILL_ARCH_SOURCES})
  # A local run queue of 4 (rt_int.h): a few tasks wrap it and overflow it.
  set(model_c_flags -DRILL_MODEL -DRILL_LOCALQ_CAP=4 -include ${model_dir}/rill_model.h)
  add_library(rill_model STATIC ${rill_model_sources})
  target_include_directories(rill_model PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                             ${CMAKE_CURRENT_SOURCE_DIR}/src ${model_dir})
  target_compile_definitions(rill_model PRIVATE ${RILL_SWITCH_DEF})
  target_compile_options(rill_model PUBLIC $<$<COMPILE_LANGUAGE:C>:${model_c_flags}>)

  # The relacy side: C++ only, relacy's headers as system headers (their
  # warnings are not ours), no C-only warning flags.
  function(rill_model_cxx target)
    set_target_properties(${target} PROPERTIES COMPILE_OPTIONS "" CXX_STANDARD 17)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-non-template-friend -O1>)
    target_include_directories(${target} SYSTEM PRIVATE ${RELACY_INCLUDE_DIR})
    target_include_directories(${target} PRIVATE ${model_dir})
  endfunction()
  add_library(rill_model_rt OBJECT ${model_dir}/model_rt.cpp)
  rill_model_cxx(rill_model_rt)

  # One binary per model_<name>.cpp, with its <name>_harness.c (the C side,
  # rill's internal API), and one per mutant (mutate.py) of its suites.
  # name:suite:mutant for each mutant: the suite that must catch it.
  set(rill_model_tests chan queue task)
  set(rill_model_mutants
      chan:recv_parks:publish_xchg:src/sync/bounded.c
      chan:batch:publish_fence:src/sync/bounded.c
      chan:send_parks:pop_free:src/sync/bounded.c
      chan:send_parks:reserve_acquire:src/sync/bounded.c
      queue:steal1:steal_tail:src/rt/queue.c
      task:wake_vs_run:wake_relaxed:src/rt/task.c)
  foreach(t ${rill_model_tests})
    add_library(model_${t}_objs OBJECT ${model_dir}/model_${t}.cpp ${model_dir}/${t}_harness.c)
    rill_model_cxx(model_${t}_objs)
    target_link_libraries(model_${t}_objs PRIVATE rill_model)
    add_executable(model_${t} $<TARGET_OBJECTS:model_${t}_objs> $<TARGET_OBJECTS:rill_model_rt>)
    target_link_libraries(model_${t} PRIVATE rill_model Threads::Threads)
    add_test(NAME model_${t} COMMAND model_${t})
    rill_test_properties(model_${t} model)
  endforeach()
  foreach(m ${rill_model_mutants})
    string(REPLACE ":" ";" f "${m}")
    list(GET f 0 t)
    list(GET f 1 suite)
    list(GET f 2 name)
    list(GET f 3 src)
    get_filename_component(base ${src} NAME)
    get_filename_component(srcdir ${CMAKE_CURRENT_SOURCE_DIR}/${src} DIRECTORY)
    set(out ${CMAKE_CURRENT_BINARY_DIR}/model_mutants/${name}/${base})
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/model_mutants/${name}
      COMMAND python3 ${model_dir}/mutate.py ${name} ${CMAKE_CURRENT_SOURCE_DIR}/${src} ${out}
      DEPENDS ${model_dir}/mutate.py ${CMAKE_CURRENT_SOURCE_DIR}/${src}
      COMMENT "model mutant ${name}")
    # The mutated copy defines everything the original object does, so the
    # linker never takes the original from the archive.
    add_executable(model_mutant_${name} ${out} $<TARGET_OBJECTS:model_${t}_objs>
                   $<TARGET_OBJECTS:rill_model_rt>)
    target_include_directories(model_mutant_${name} PRIVATE ${srcdir})
    target_compile_definitions(model_mutant_${name} PRIVATE ${RILL_SWITCH_DEF})
    target_link_libraries(model_mutant_${name} PRIVATE rill_model Threads::Threads)
    add_test(NAME model_mutant_${name} COMMAND model_mutant_${name} --expect ${suite})
    rill_test_properties(model_mutant_${name} model)
  endforeach()
endif()
