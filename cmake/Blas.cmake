# The float32 GEMM under CPU matmul/conv: OpenBLAS from the scipy-openblas32 wheel (symbols prefixed
# scipy_). TL_OPENBLAS_DIR may point at an unpacked wheel; otherwise Python is asked where it is.
if(NOT TL_OPENBLAS_DIR)
  find_package(Python COMPONENTS Interpreter REQUIRED)
  execute_process(
    COMMAND ${Python_EXECUTABLE} -c "import scipy_openblas32, os; print(os.path.dirname(scipy_openblas32.__file__))"
    OUTPUT_VARIABLE TL_OPENBLAS_DIR OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE tl_blas_status)
  if(NOT tl_blas_status EQUAL 0)
    message(FATAL_ERROR "scipy-openblas32 is required (pip install scipy-openblas32) or set TL_OPENBLAS_DIR")
  endif()
endif()
set(TL_BLAS_LIB_DIR "${TL_OPENBLAS_DIR}/lib")
find_library(TL_BLAS_LIBRARY NAMES scipy_openblas libscipy_openblas PATHS ${TL_BLAS_LIB_DIR} NO_DEFAULT_PATH REQUIRED)
