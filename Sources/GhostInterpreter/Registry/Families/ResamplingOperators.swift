import GhostIR

extension OperatorRegistry {
    static let resampling = OperatorFamily(title: "Resampling", operators: [
        OperatorDefinition(
            "Resize",
            "opsets 10–19, any rank; modes nearest (every `nearest_mode`; float, integer and bool data), linear and cubic (`cubic_coeff_a`, `exclude_outside`, `antialias`); every `coordinate_transformation_mode` (`roi` and `extrapolation_value` for tf_crop_and_resize); `scales` or `sizes` (exactly one), `axes`, `keep_aspect_ratio_policy`. As ONNX Runtime: lengths ⌊size·scale⌋ in float32, Resize-10 rounds nearest down when enlarging and up when shrinking. align_corners and tf_crop_and_resize with a fractional size·scale are refused (ONNX Runtime and the ONNX reference disagree), as is antialias with nearest"
        ) { context throws(InterpreterError) in
            try Resize.resize(context)
        },
        OperatorDefinition(
            "Upsample",
            "opsets 7 (`scales` attribute) and 9 (`scales` input); nearest and linear with asymmetric coordinates, as Resize-10; scales below 1 refused"
        ) { context throws(InterpreterError) in
            try Resize.upsample(context)
        },
        OperatorDefinition(
            "GridSample",
            "opsets 16 (bilinear, nearest, bicubic) and 20–22 (linear, nearest, cubic); `padding_mode` zeros, border, reflection; `align_corners`; 4-D input, and 5-D from opset 20; other ranks refused"
        ) { context throws(InterpreterError) in
            try GridSample.evaluate(context)
        },
        OperatorDefinition("DepthToSpace", "`blocksize`, `mode` DCR or CRD; any element type") { context throws(InterpreterError) in
            try DepthSpace.depthToSpace(context)
        },
        OperatorDefinition("SpaceToDepth", "`blocksize`, `mode` DCR (default) or CRD; any element type") { context throws(InterpreterError) in
            try DepthSpace.spaceToDepth(context)
        },
    ])
}
