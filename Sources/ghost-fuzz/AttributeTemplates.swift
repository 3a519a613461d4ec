import GhostIR

/// The valid small graphs the attribute-space fuzzer starts from: one operator each, with the
/// opsets whose attribute or input forms differ, and every attribute and constant input written
/// through `AttributeCase`, so the fuzz bytes can push each one to an extreme.
struct AttributeTemplate: Sendable {
    let op: String
    let opsets: [Int64]
    let build: @Sendable (inout AttributeCase) -> Void
}

extension AttributeTemplate {
    static let autoPads = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]

    static let all: [AttributeTemplate] = convolutions + pooling + resampling + indexing + shapes + selection

    static let convolutions: [AttributeTemplate] = [
        AttributeTemplate(op: "Conv", opsets: [11, 7, 22]) { c in
            c.data([1, 2, 5, 5])
            c.constantWeights([2, 2, 3, 3])
            if c.bytes.choose(3) == 2 { c.constantWeights([2]) }
            c.ints("kernel_shape", [3, 3])
            c.ints("pads", [1, 1, 1, 1])
            c.ints("strides", [1, 1])
            c.ints("dilations", [1, 1])
            c.int("group", 1)
            c.string("auto_pad", autoPads)
        },
        AttributeTemplate(op: "ConvTranspose", opsets: [11, 7, 22]) { c in
            c.data([1, 2, 3, 3])
            c.constantWeights([2, 2, 3, 3])
            if c.bytes.choose(3) == 2 { c.constantWeights([4]) }
            c.ints("kernel_shape", [3, 3])
            c.ints("pads", [1, 1, 1, 1])
            c.ints("strides", [2, 2])
            c.ints("dilations", [1, 1])
            c.ints("output_padding", [1, 1])
            c.ints("output_shape", nil)
            c.int("group", 1)
            c.string("auto_pad", autoPads)
        },
    ]

    static let pooling: [AttributeTemplate] = [
        AttributeTemplate(op: "MaxPool", opsets: [12, 8, 10, 22]) { c in
            c.data([1, 2, 5, 5])
            c.ints("kernel_shape", [2, 2])
            c.ints("pads", [0, 0, 1, 1])
            c.ints("strides", [2, 2])
            c.ints("dilations", [1, 1])
            c.int("ceil_mode", 0)
            c.int("storage_order", nil)
            c.string("auto_pad", autoPads)
        },
        AttributeTemplate(op: "AveragePool", opsets: [19, 7, 11, 22]) { c in
            c.data([1, 2, 5, 5])
            c.ints("kernel_shape", [3, 3])
            c.ints("pads", [1, 1, 1, 1])
            c.ints("strides", [2, 2])
            c.ints("dilations", nil)
            c.int("ceil_mode", 1)
            c.int("count_include_pad", 0)
            c.string("auto_pad", autoPads)
        },
        AttributeTemplate(op: "GlobalAveragePool", opsets: [1]) { c in
            c.data([1, 2, 3, 3])
        },
    ]

    static let resampling: [AttributeTemplate] = [
        AttributeTemplate(op: "Resize", opsets: [13, 10, 11, 18, 19]) { c in
            c.data([1, 2, 3, 3])
            if c.opset == 10 {
                c.constantFloats([1, 1, 2, 2])
            } else {
                if c.bytes.choose(4) == 3 { c.constantFloats([0, 0, 0, 0, 1, 1, 1, 1]) } else { c.absent() }
                if c.bytes.choose(2) == 0 {
                    c.constantFloats([1, 1, 2, 1.5])
                } else {
                    c.absent()
                    c.constantIntegers([1, 2, 6, 4])
                }
            }
            c.string("mode", ["nearest", "linear", "cubic"])
            c.string("coordinate_transformation_mode", ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_crop_and_resize", "half_pixel_symmetric", "tf_half_pixel_for_nn"])
            c.string("nearest_mode", ["round_prefer_floor", "floor", "ceil", "round_prefer_ceil"])
            c.float("cubic_coeff_a", -0.75)
            c.int("exclude_outside", 0)
            c.float("extrapolation_value", 0)
            if c.opset >= 18 {
                c.int("antialias", 0)
                c.ints("axes", nil)
                c.string("keep_aspect_ratio_policy", ["stretch", "not_larger", "not_smaller"])
            }
        },
        AttributeTemplate(op: "Upsample", opsets: [9, 7]) { c in
            c.data([1, 1, 2, 3])
            if c.opset >= 9 { c.constantFloats([1, 1, 2, 2]) } else { c.floats("scales", [1, 1, 2, 2]) }
            c.string("mode", ["nearest", "linear", "bilinear"])
        },
        AttributeTemplate(op: "GridSample", opsets: [16, 20, 22]) { c in
            c.data([1, 1, 3, 3])
            c.constantFloats([-1, -1, 0.5, -0.25, 0, 0, 1, 1.2], shape: [1, 2, 2, 2])
            c.string("mode", c.opset >= 20 ? ["linear", "nearest", "cubic"] : ["bilinear", "nearest", "bicubic"])
            c.string("padding_mode", ["zeros", "border", "reflection"])
            c.int("align_corners", 0)
        },
        AttributeTemplate(op: "DepthToSpace", opsets: [13, 1]) { c in
            c.data([1, 8, 2, 2])
            c.int("blocksize", 2)
            c.string("mode", ["DCR", "CRD"])
        },
        AttributeTemplate(op: "SpaceToDepth", opsets: [13]) { c in
            c.data([1, 2, 4, 4])
            c.int("blocksize", 2)
        },
    ]

    static let indexing: [AttributeTemplate] = [
        AttributeTemplate(op: "Pad", opsets: [13, 2, 11, 18, 19]) { c in
            c.data([1, 2, 3, 3])
            if c.opset < 11 {
                c.ints("pads", [0, 0, 1, 1, 0, 0, 2, 1])
                c.float("value", 0)
            } else {
                c.constantIntegers([0, 0, 1, 1, 0, 0, 2, 1])
                if c.bytes.choose(2) == 1 { c.constantFloats([0.5], shape: []) } else if c.opset >= 18 { c.absent() }
                if c.opset >= 18, c.bytes.choose(3) == 2 { c.constantIntegers([2, 3]) }
            }
            c.string("mode", ["constant", "reflect", "edge", "wrap"])
        },
        AttributeTemplate(op: "Slice", opsets: [13, 1, 10]) { c in
            c.data([2, 3, 4])
            if c.opset == 1 {
                c.ints("starts", [0, 1])
                c.ints("ends", [2, 4])
                c.ints("axes", [1, 2])
            } else {
                c.constantIntegers([0, -1])
                c.constantIntegers([3, -5])
                c.constantIntegers([1, 2])
                c.constantIntegers([1, -2])
            }
        },
        AttributeTemplate(op: "Gather", opsets: [13]) { c in
            c.data([3, 4])
            c.constantIntegers([0, -1, 2], shape: [3])
            c.int("axis", 0)
        },
        AttributeTemplate(op: "GatherElements", opsets: [13]) { c in
            c.data([3, 3])
            c.constantIntegers([0, 1, 2, -1, 0, 1], shape: [2, 3])
            c.int("axis", 1)
        },
        AttributeTemplate(op: "GatherND", opsets: [13, 11]) { c in
            c.data([2, 2, 3])
            c.constantIntegers([0, 1, 1, 0], shape: [2, 2])
            c.int("batch_dims", 0)
        },
        AttributeTemplate(op: "ScatterND", opsets: [16, 11, 18]) { c in
            c.data([4, 4])
            c.constantIntegers([1, 3], shape: [2, 1])
            c.constantWeights([2, 4])
            c.string("reduction", ["none", "add", "mul", "max", "min"])
        },
        AttributeTemplate(op: "ScatterElements", opsets: [16, 11, 18]) { c in
            c.data([3, 3])
            c.constantIntegers([1, 0, 2, 0, 2, 1], shape: [2, 3])
            c.constantWeights([2, 3])
            c.int("axis", 0)
            c.string("reduction", ["none", "add", "mul", "max", "min"])
        },
        AttributeTemplate(op: "OneHot", opsets: [11]) { c in
            c.data([3], type: .int64)
            c.constantIntegers([5], shape: [])
            c.constantFloats([0, 1])
            c.int("axis", -1)
        },
        AttributeTemplate(op: "CumSum", opsets: [14]) { c in
            c.data([2, 3])
            c.constantIntegers([1], shape: [])
            c.int("exclusive", 0)
            c.int("reverse", 0)
        },
        AttributeTemplate(op: "Trilu", opsets: [14]) { c in
            c.data([3, 4])
            if c.bytes.choose(2) == 1 { c.constantIntegers([1], shape: []) }
            c.int("upper", 1)
        },
    ]

    static let shapes: [AttributeTemplate] = [
        AttributeTemplate(op: "Reshape", opsets: [14, 5, 19]) { c in
            c.data([2, 3, 4])
            c.constantIntegers([4, -1, 0])
            if c.opset >= 14 { c.int("allowzero", 0) }
        },
        AttributeTemplate(op: "Expand", opsets: [13]) { c in
            c.data([3, 1])
            c.constantIntegers([2, 1, 4])
        },
        AttributeTemplate(op: "Tile", opsets: [13]) { c in
            c.data([2, 3])
            c.constantIntegers([2, 1])
        },
        AttributeTemplate(op: "ConstantOfShape", opsets: [9, 20]) { c in
            c.constantIntegers([2, 3])
            if let value = try? Tensor(float32: [1.5], shape: [1]) { c.tensor("value", value) }
        },
        AttributeTemplate(op: "Range", opsets: [11]) { c in
            if c.bytes.choose(2) == 0 {
                c.constantFloats([0], shape: [])
                c.constantFloats([5], shape: [])
                c.constantFloats([1.5], shape: [])
            } else {
                c.constantIntegers([10], shape: [])
                c.constantIntegers([0], shape: [])
                c.constantIntegers([-3], shape: [])
            }
        },
        AttributeTemplate(op: "Split", opsets: [13, 11, 18]) { c in
            c.outputCount = 2
            c.data([2, 6])
            c.int("axis", 1)
            switch c.opset {
            case 11: c.ints("split", [2, 4])
            case 13: c.constantIntegers([2, 4])
            default:
                if c.bytes.choose(2) == 0 { c.int("num_outputs", 2) } else { c.constantIntegers([3, 3]) }
            }
        },
        AttributeTemplate(op: "Concat", opsets: [13]) { c in
            c.data([2, 3])
            c.data([2, 2])
            c.int("axis", 1)
        },
        AttributeTemplate(op: "Unsqueeze", opsets: [13, 11]) { c in
            c.data([2, 3])
            if c.opset >= 13 { c.constantIntegers([0, -1]) } else { c.ints("axes", [0, 3]) }
        },
        AttributeTemplate(op: "Squeeze", opsets: [13, 11]) { c in
            c.data([1, 3, 1])
            if c.opset >= 13 { c.constantIntegers([0, -1]) } else { c.ints("axes", [0, 2]) }
        },
        AttributeTemplate(op: "Transpose", opsets: [13]) { c in
            c.data([2, 3, 4])
            c.ints("perm", [2, 0, 1])
        },
        AttributeTemplate(op: "Flatten", opsets: [13]) { c in
            c.data([2, 3, 4])
            c.int("axis", 2)
        },
        AttributeTemplate(op: "EyeLike", opsets: [9]) { c in
            c.data([3, 4])
            c.int("k", 1)
        },
    ]

    static let selection: [AttributeTemplate] = [
        AttributeTemplate(op: "TopK", opsets: [11, 1, 10]) { c in
            c.outputCount = 2
            c.data([2, 5])
            if c.opset == 1 { c.int("k", 3) } else { c.constantIntegers([3]) }
            c.int("axis", -1)
            if c.opset >= 11 {
                c.int("largest", 1)
                c.int("sorted", 1)
            }
        },
        AttributeTemplate(op: "Einsum", opsets: [12]) { c in
            let equations = ["ij,jk->ik", "ii->i", "...ij->...ji", "bij,bjk->bik", "i,i->", "ij->", "ij,jk", "a...b,b...c->ac",
                             "ij,,jk->ik", "->", "iij->i", "ij->k", "ij->ii", "...", "i.j->i", "IJ,JK->IK", "ij,jk->ik->", "ɑ,ɑ->"]
            let equation = equations[c.bytes.choose(equations.count)]
            for _ in 0..<(1 + c.bytes.choose(3)) { c.data([2, 2]) }
            c.string("equation", [equation, "ij,jk->ik"])
        },
        AttributeTemplate(op: "ArgMax", opsets: [13, 11]) { c in
            c.data([3, 4])
            c.int("axis", 1)
            c.int("keepdims", 1)
            c.int("select_last_index", 0)
        },
        AttributeTemplate(op: "ReduceSum", opsets: [13, 11]) { c in
            c.data([2, 3, 4])
            if c.opset >= 13 { c.constantIntegers([1, -1]) } else { c.ints("axes", [1, -1]) }
            c.int("keepdims", 1)
            if c.opset >= 13 { c.int("noop_with_empty_axes", 0) }
        },
        AttributeTemplate(op: "ReduceMax", opsets: [18]) { c in
            c.data([2, 3])
            c.constantIntegers([0])
            c.int("keepdims", 0)
        },
        AttributeTemplate(op: "Hardmax", opsets: [13, 11]) { c in
            c.data([2, 3])
            c.int("axis", -1)
        },
        AttributeTemplate(op: "LogSoftmax", opsets: [13, 11]) { c in
            c.data([2, 3])
            c.int("axis", -1)
        },
    ]
}
