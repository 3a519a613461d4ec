import GhostIR

extension OperatorRegistry {
    static let convolution = OperatorFamily(title: "Convolution and matrix products", operators: [
        OperatorDefinition(
            "Conv",
            "1-D (NCW) and 2-D (NCHW); `group`, `strides`, `dilations`, `pads`, `auto_pad` (NOTSET, VALID, SAME_UPPER, SAME_LOWER), `kernel_shape` (checked against the weight), optional bias. im2col + one GEMM (packed weights, see above, or OpenBLAS `cblas_sgemm`/`cblas_dgemm`, loaded on first use) per image and group; 1×1 stride-1 unpadded kernels skip im2col. Depthwise (one input channel per group, any multiplier) by direct loops over a zero-padded copy of each channel (the window sums in C, built for AVX-512/AVX2/baseline; a plane with short rows is computed as one long row and its valid columns copied out): undilated 3×3/5×5/7×7 kernels at column stride ≤ 2 by row sums, dilated and other windows tap by tap in one pass per output row (padding taps included, so a ±∞/NaN weight over padding gives NaN as in ONNX Runtime); a plane far larger than the image (huge pads or strides) tap by tap over the image only. The bias, a BatchNormalization with constant parameters and/or a unary activation that only the Conv feeds are applied to the Conv's output in place, one C loop per plane (same arithmetic as the separate nodes). 3-D convolution unsupported",
            role: .convolution,
            prepare: { context, options in
                // Convolutions multiply by weights packed here, in the run's precision, with CKernels' GEMM.
                guard let weight = context.optionalInput(1), let groups = try? context.int("group", 1) else { return nil }
                let packed: PackedWeights?
                switch weight.storage {
                case .float(let values): packed = PackedWeights(weight: values, shape: weight.shape, groups: groups, threads: options.threads)
                case .double(let values): packed = PackedWeights(weight: values, shape: weight.shape, groups: groups, threads: options.threads)
                default: packed = nil
                }
                return packed.map { PreparedNode(packedWeights: $0) }
            },
            Convolution.evaluate),
        OperatorDefinition(
            "ConvTranspose",
            "1-D, 2-D and 3-D; weight C × M/group × k…; `group`, `strides`, `dilations`, `pads`, `output_padding` (less than the stride), `output_shape` (overrides pads; the total padding split as the spec says, the odd one at the end for SAME_UPPER, else at the beginning; a larger target is filled with the bias, as ONNX Runtime does), `auto_pad` (NOTSET, VALID, SAME_UPPER, SAME_LOWER: output input·stride), `kernel_shape` (checked against the weight), optional bias. One GEMM (Wᵀ·X, OpenBLAS) per image and group, then col2im adds the taps into the output",
            prepare: ConvTranspose.prepare,
            ConvTranspose.evaluate),
        OperatorDefinition(
            "Gemm",
            "`transA`, `transB`, `alpha`, `beta`, C broadcast to [M, N]; a constant B is packed once (float32 or float64) and Yᵀ = Bᵀ·Aᵀ computed by the packed GEMM",
            prepare: { context, options in
                // A constant B (a classifier's weights) is packed transposed, in the run's precision.
                guard let matrix = context.optionalInput(1), let transB = try? context.int("transB", 0) else { return nil }
                let packed: PackedWeights?
                switch matrix.storage {
                case .float(let values): packed = PackedWeights(matrix: values, shape: matrix.shape, transposed: transB != 0, threads: options.threads)
                case .double(let values): packed = PackedWeights(matrix: values, shape: matrix.shape, transposed: transB != 0, threads: options.threads)
                default: packed = nil
                }
                return packed.map { PreparedNode(packedWeights: $0) }
            },
            MatrixProduct.gemm),
        OperatorDefinition(
            "MatMul",
            "numpy semantics: batched with broadcast batch dimensions, 1-D operands promoted and the added axis removed. Products under 2²⁴ multiply-adds by the packed GEMM (each batch's A packed, B read in place; a B shared by all batches folds them into one product), larger ones by OpenBLAS",
            MatrixProduct.matMul),
    ])
}
