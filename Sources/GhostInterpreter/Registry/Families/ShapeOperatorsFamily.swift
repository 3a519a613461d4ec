import GhostIR

extension OperatorRegistry {
    static let shapes = OperatorFamily(title: "Shape and data movement", operators: [
        OperatorDefinition("Concat", "any element type, same type for every input", DataMovement.concat),
        OperatorDefinition("Split", "sizes from the `split` attribute (< 13), the input (≥ 13), or `num_outputs` (18) / the output count: equal parts, the last smaller",
                           outputs: DataMovement.split),
        OperatorDefinition("Slice", "attributes (< 10) or inputs; negative starts/ends, negative steps, INT64_MAX/INT64_MIN ends; repeated axes and step 0 are errors",
                           DataMovement.slice),
        OperatorDefinition("Pad", "modes `constant`, `edge`, `reflect`, `wrap`; pads as attribute (< 11) or input, optional `axes` input (18); negative pads crop; `constant_value` input or `value` attribute",
                           Padding.pad),
        OperatorDefinition("Reshape", "`0` copies the input's dimension, one `-1` is inferred, `allowzero`", ShapeOperators.reshape),
        OperatorDefinition("Flatten", "`axis`", ShapeOperators.flatten),
        OperatorDefinition("Transpose", "`perm` (default: reversed axes)", ShapeOperators.transpose),
        OperatorDefinition("Squeeze", "axes as attribute (< 13) or input (≥ 13)", ShapeOperators.squeeze),
        OperatorDefinition("Unsqueeze", "axes as attribute (< 13) or input (≥ 13); repeated axes are errors", ShapeOperators.unsqueeze),
        OperatorDefinition("Shape", "`start`, `end` (opset 15), clamped as the spec says", ShapeOperators.shape),
        OperatorDefinition("Gather", "any axis, indices of any shape, negative indices", DataMovement.gather),
    ])
}
