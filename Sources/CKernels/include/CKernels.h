// Umbrella header of the CKernels module.
#include "ghost_activation.h"
#include "ghost_attention.h"
#include "ghost_blas.h"
#include "ghost_direct_conv.h"
#include "ghost_gemm.h"
#include "ghost_kernels.h"
#include "ghost_math.h"
