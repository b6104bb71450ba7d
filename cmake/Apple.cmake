# The Apple backends, included on Apple only: `metal` (metal/*.metal embedded as strings and compiled at
# run time, so no Metal toolchain is needed; Objective-C++ host code in objc/) and `ane` (Core ML).
set(TL_METAL_ENABLED OFF)
set(TL_COREML_ENABLED OFF)
if(TL_METAL)
  set(TL_METAL_ENABLED ON)
  if(TL_COREML)
    set(TL_COREML_ENABLED ON)
  endif()
elseif(TL_COREML)
  message(FATAL_ERROR "TL_COREML=ON needs TL_METAL=ON: the ane device runs on Metal buffers")
endif()
if(TL_METAL_ENABLED)
  enable_language(OBJCXX)  # at file scope: CMake refuses it inside a function
endif()

function(tl_add_apple_backends target)
  set(root "${CMAKE_CURRENT_SOURCE_DIR}")
  file(GLOB kernels CONFIGURE_DEPENDS "${root}/metal/*.metal" "${root}/cpp/kernels/*.h")
  set(embedded "${CMAKE_CURRENT_BINARY_DIR}/metal_sources.cpp")
  add_custom_command(OUTPUT "${embedded}"
    COMMAND "${CMAKE_COMMAND}" "-DMETAL_DIR=${root}/metal" "-DOUTPUT=${embedded}" -P "${root}/cmake/EmbedMetal.cmake"
    DEPENDS ${kernels} "${root}/metal/params.h" "${root}/metal/common.h" "${root}/cpp/core/philox.h"
      "${root}/cpp/include/tensorlogic/op_enums.h" "${root}/cpp/include/tensorlogic/op_table.def"
      "${root}/cmake/EmbedMetal.cmake"
    COMMENT "Embedding metal/*.metal" VERBATIM)
  file(GLOB host CONFIGURE_DEPENDS "${root}/objc/metal_*.mm")  # the context and one file per kernel family
  set(frameworks "-framework Metal" "-framework MetalPerformanceShaders" "-framework Foundation"
    "-framework CoreVideo" "-framework IOSurface")
  target_compile_definitions(${target} PUBLIC TL_WITH_METAL)
  if(TL_COREML_ENABLED)
    list(APPEND host "${root}/objc/ane_backend.mm")
    list(APPEND frameworks "-framework CoreML")
    target_compile_definitions(${target} PUBLIC TL_WITH_COREML)
  endif()
  set_source_files_properties(${host} PROPERTIES COMPILE_OPTIONS "-fobjc-arc")
  target_sources(${target} PRIVATE ${host} "${embedded}")
  target_link_libraries(${target} PRIVATE ${frameworks})
endfunction()
