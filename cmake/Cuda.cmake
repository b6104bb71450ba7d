# The CUDA backend is built only where both nvcc and cuBLAS(Lt) are found (CI has nvcc without cuBLAS).
set(TL_CUDA_ENABLED OFF)
if(NOT TL_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit QUIET)
    if(CUDAToolkit_FOUND AND TARGET CUDA::cublasLt AND EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/cuda")
      set(TL_CUDA_ENABLED ON)
    endif()
  endif()
  if(TL_CUDA STREQUAL "ON" AND NOT TL_CUDA_ENABLED)
    message(FATAL_ERROR "TL_CUDA=ON but no CUDA toolkit with cuBLASLt was found")
  endif()
endif()
if(TL_CUDA_ENABLED)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  enable_language(CUDA)  # file scope, as CMake requires
endif()

# Adds the CUDA backend (cuda/*.cu, cuda/*.cpp) to `target`: kernels for sm_80 and sm_90, cudart and
# cuBLASLt, and TL_WITH_CUDA so the core's dispatch links cuda::create_backend / cuda::device_present.
function(tl_add_cuda_backend target)
  file(GLOB tl_cuda_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/cuda/*.cu" "${PROJECT_SOURCE_DIR}/cuda/*.cpp")
  # Files named *_sm90a.cu use Hopper's architecture-specific instructions (wgmma, TMA, setmaxnreg): they are
  # built for sm_90a alone, where the toolkit knows it (CUDA 12.0+), and left out otherwise; the backend then
  # uses the kernels built for every architecture.
  list(FILTER tl_cuda_sources EXCLUDE REGEX "_sm90a\\.cu$")
  target_sources(${target} PRIVATE ${tl_cuda_sources})
  if(CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.0)
    file(GLOB tl_sm90a_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/cuda/*_sm90a.cu")
    add_library(tl_cuda_sm90a OBJECT ${tl_sm90a_sources})
    # CUDA_ARCHITECTURES OFF: no architecture flags from CMake, only the one below (CMake's own spelling of
    # architecture-specific targets needs a newer CMake than the 3.21 this project asks for).
    set_target_properties(tl_cuda_sm90a PROPERTIES CUDA_ARCHITECTURES OFF CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON
                                                   POSITION_INDEPENDENT_CODE ON)
    target_compile_options(tl_cuda_sm90a PRIVATE --generate-code=arch=compute_90a,code=sm_90a
                                                 --expt-relaxed-constexpr -Xcompiler=-fno-math-errno)
    target_include_directories(tl_cuda_sm90a PRIVATE "${PROJECT_SOURCE_DIR}/cpp/include")
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:tl_cuda_sm90a>)
    target_compile_definitions(${target} PRIVATE TL_CUDA_SM90A)
  endif()
  # No implicit multiply-add fusion where results must match the CPU backend bit for bit: the random
  # stream (only philox.h's explicit fmaf calls fuse) and the optimizer updates.
  set_source_files_properties("${PROJECT_SOURCE_DIR}/cuda/random.cu" "${PROJECT_SOURCE_DIR}/cuda/optim.cu"
                              PROPERTIES COMPILE_OPTIONS "--fmad=false")
  # CUDA_RUNTIME_LIBRARY Shared: one cudart (libcudart.so), not CMake's default static copy beside it.
  set_target_properties(${target} PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}" CUDA_STANDARD 17
                                             CUDA_STANDARD_REQUIRED ON CUDA_RUNTIME_LIBRARY Shared)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-fno-math-errno>)
  target_compile_definitions(${target} PRIVATE TL_WITH_CUDA)
  target_link_libraries(${target} PRIVATE CUDA::cudart CUDA::cublasLt)
  set(TL_BACKENDS_EXTRA "${TL_BACKENDS_EXTRA}, cuda" PARENT_SCOPE)
endfunction()
