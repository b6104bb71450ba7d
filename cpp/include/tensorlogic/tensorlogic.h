// The public C++ API of TensorLogic: include this one header.
#pragma once
#include "tensorlogic/array.h"
#include "tensorlogic/device.h"
#include "tensorlogic/dtype.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/memory.h"
#include "tensorlogic/ops.h"
#include "tensorlogic/optim.h"
