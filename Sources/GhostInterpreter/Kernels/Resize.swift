import Foundation

/// Resize (opsets 10–19) and Upsample (7, 9): every output coordinate `o` along a resized axis is
/// mapped to a source coordinate `x` by the coordinate transformation mode, then
///
/// - nearest: `input[round(x)]`, rounded by `nearest_mode`, clamped to the axis;
/// - linear: `(1 − r)·input[⌊x⌋] + r·input[⌊x⌋ + 1]`, `r = x − ⌊x⌋`, `x` clamped to `[0, size − 1]`;
/// - cubic: the four taps `⌊x⌋ − 1 … ⌊x⌋ + 2` weighted by Keys' kernel with `cubic_coeff_a`,
///   indices clamped to the axis (edge padding), `exclude_outside` zeroing and renormalizing the
///   taps outside it;
/// - antialias (linear, cubic): the kernel stretched by `1 / scale` when downscaling, weights
///   normalized to sum 1.
///
/// N-D interpolation is the product of these 1-D weights, applied axis by axis. With
/// `tf_crop_and_resize`, an output whose source coordinate on any axis lies outside
/// `[0, size − 1]` is `extrapolation_value`. An axis of scale 1 keeping its length is copied, as
/// ONNX Runtime does, whatever the coordinate mode.
///
/// As ONNX Runtime does: output lengths from `scales` are `⌊size·scale⌋` with the product taken
/// in float32, the `length_resized` of `align_corners`, `pytorch_half_pixel` (0 at length 1) and
/// `tf_crop_and_resize` is the integer output length, and Resize-10 and Upsample round nearest
/// coordinates down when upscaling and up when downscaling. The ONNX reference instead uses the
/// fractional `size·scale` as `length_resized`; where the two disagree (align_corners and
/// tf_crop_and_resize with a fractional `size·scale`) the node is refused rather than answered either way.
enum Resize {
    enum Mode: String { case nearest, linear, cubic }

    enum Coordinates: String {
        case halfPixel = "half_pixel", halfPixelSymmetric = "half_pixel_symmetric"
        case pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners", asymmetric
        case tfCropAndResize = "tf_crop_and_resize", tfHalfPixelForNN = "tf_half_pixel_for_nn"
    }

    enum Rounding: String {
        case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
        /// Resize-10 and Upsample: truncate when upscaling, ceiling when downscaling.
        case simple
    }

    struct Settings {
        var mode: Mode
        var coordinates: Coordinates
        var rounding: Rounding
        var cubicA = -0.75
        var excludeOutside = false
        var antialias = false
        var extrapolation = 0.0
    }

    /// What one axis becomes: its output length, the scale its coordinates use, and the
    /// fraction of the input `roi` selects (tf_crop_and_resize).
    struct AxisTarget {
        var input: Int
        var output: Int
        var scale: Double
        /// `size·scale` before flooring (half_pixel_symmetric's `output_width`).
        var exactOutput: Double
        var roi: (start: Double, end: Double) = (0, 1)
    }

    // MARK: - Resize

    static func resize(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        let modeName = try context.string("mode", "nearest")
        guard let mode = Mode(rawValue: modeName) else { throw context.unsupported("mode", modeName) }
        var settings = Settings(mode: mode, coordinates: .asymmetric, rounding: .simple)
        if context.opset >= 11 {
            let coordinateName = try context.string("coordinate_transformation_mode", "half_pixel")
            guard let coordinates = Coordinates(rawValue: coordinateName) else {
                throw context.unsupported("coordinate_transformation_mode", coordinateName)
            }
            let roundingName = try context.string("nearest_mode", "round_prefer_floor")
            guard let rounding = Rounding(rawValue: roundingName), rounding != .simple else {
                throw context.unsupported("nearest_mode", roundingName)
            }
            settings.coordinates = coordinates
            settings.rounding = rounding
            settings.cubicA = Double(try context.float("cubic_coeff_a", -0.75))
            settings.excludeOutside = try context.int("exclude_outside", 0) != 0
            settings.extrapolation = Double(try context.float("extrapolation_value", 0))
        }
        if context.opset >= 18 {
            settings.antialias = try context.int("antialias", 0) != 0
            if settings.antialias, mode == .nearest { throw context.unsupported("antialias", "1 with mode nearest") }
        }
        // The axes roi, scales and sizes describe (all of them unless `axes` says otherwise).
        var axes = Array(0..<rank)
        if context.opset >= 18, let listed = try context.ints("axes") {
            axes = []
            for raw in listed {
                let axis = try context.axis(raw, rank: rank, "axes entry")
                guard !axes.contains(axis) else { throw context.fail("axes \(listed) repeat axis \(axis)") }
                axes.append(axis)
            }
        }
        let scalesInput = context.opset >= 11 ? context.optionalInput(2) : try context.input(1)
        let sizesInput = context.opset >= 11 ? context.optionalInput(3) : nil
        let scales = scalesInput.flatMap { $0.count == 0 ? nil : $0 }
        let sizes = sizesInput.flatMap { $0.count == 0 ? nil : $0 }
        if scales != nil, sizes != nil { throw context.fail("both scales and sizes are given (exactly one is allowed)") }
        var targets = x.shape.map { AxisTarget(input: $0, output: $0, scale: 1, exactOutput: Double($0)) }
        if let scales {
            guard scales.isFloatingPoint else { throw context.fail("scales must be float, not \(scales.typeName)") }
            targets = try scaleTargets(context, shape: x.shape, axes: axes, scales: scales.doubleValues)
        } else if let sizes {
            guard case .int64(let values) = sizes.storage else { throw context.fail("sizes must be int64, not \(sizes.typeName)") }
            let policy = context.opset >= 18 ? try context.string("keep_aspect_ratio_policy", "stretch") : "stretch"
            targets = try sizeTargets(context, shape: x.shape, axes: axes, sizes: values.map { Int(clamping: $0) }, policy: policy)
        } else {
            throw context.fail("neither scales nor sizes is given")
        }
        if settings.coordinates == .tfCropAndResize {
            guard let roi = context.optionalInput(1), roi.count > 0 else {
                throw context.fail("tf_crop_and_resize needs the roi input")
            }
            let values = roi.doubleValues
            guard values.count == 2 * axes.count else {
                throw context.fail("roi has \(values.count) values for \(axes.count) axes (needs starts and ends)")
            }
            for (i, axis) in axes.enumerated() { targets[axis].roi = (values[i], values[i + axes.count]) }
        }
        return try run(context, x, settings: settings, targets: targets)
    }

    /// Output lengths `⌊size·scale⌋` (float32 product, as ONNX Runtime) for the listed axes.
    private static func scaleTargets(_ context: NodeContext, shape: [Int], axes: [Int], scales: [Double])
        throws(InterpreterError) -> [AxisTarget] {
        guard scales.count == axes.count else {
            throw context.fail("scales has \(scales.count) values for \(axes.count) axes")
        }
        var targets = shape.map { AxisTarget(input: $0, output: $0, scale: 1, exactOutput: Double($0)) }
        for (i, axis) in axes.enumerated() {
            let scale = scales[i]
            guard scale > 0, scale.isFinite else { throw context.fail("scale \(scale) for axis \(axis) is not positive and finite") }
            let product = Double(Float(shape[axis]) * Float(scale))
            guard product < 0x1p62 else {
                throw .tensorTooLarge(node: context.name, op: context.op, shape: shape, limit: Interpreter.maximumElementCount)
            }
            targets[axis] = AxisTarget(input: shape[axis], output: Int(product.rounded(.down)), scale: scale,
                                       exactOutput: Double(shape[axis]) * scale)
        }
        _ = try context.elementCount(of: targets.map(\.output))
        return targets
    }

    /// Output lengths from `sizes`, stretched or kept to the input's aspect ratio.
    private static func sizeTargets(_ context: NodeContext, shape: [Int], axes: [Int], sizes: [Int], policy: String)
        throws(InterpreterError) -> [AxisTarget] {
        guard sizes.count == axes.count else { throw context.fail("sizes has \(sizes.count) values for \(axes.count) axes") }
        var targets = shape.map { AxisTarget(input: $0, output: $0, scale: 1, exactOutput: Double($0)) }
        for (i, axis) in axes.enumerated() {
            guard sizes[i] >= 0 else { throw context.fail("sizes \(sizes) has a negative size") }
            guard shape[axis] > 0 || sizes[i] == 0 else { throw context.fail("axis \(axis) is empty and cannot be resized to \(sizes[i])") }
        }
        switch policy {
        case "stretch":
            for (i, axis) in axes.enumerated() where shape[axis] > 0 {
                let scale = Double(sizes[i]) / Double(shape[axis])
                targets[axis] = AxisTarget(input: shape[axis], output: sizes[i], scale: scale, exactOutput: Double(sizes[i]))
            }
        case "not_larger", "not_smaller":
            let ratios = axes.enumerated().filter { shape[$0.element] > 0 }.map { Double(sizes[$0.offset]) / Double(shape[$0.element]) }
            guard let scale = policy == "not_larger" ? ratios.min() : ratios.max() else { break }
            for axis in axes where shape[axis] > 0 {
                let exact = scale * Double(shape[axis])
                guard exact < 0x1p62 else {
                    throw .tensorTooLarge(node: context.name, op: context.op, shape: shape, limit: Interpreter.maximumElementCount)
                }
                // round_int: halfway cases up.
                targets[axis] = AxisTarget(input: shape[axis], output: Int((exact + 0.5).rounded(.down)), scale: scale, exactOutput: exact)
            }
        default:
            throw context.unsupported("keep_aspect_ratio_policy", policy)
        }
        _ = try context.elementCount(of: targets.map(\.output))
        return targets
    }

    // MARK: - Upsample

    /// Upsample-7 (`scales` attribute) and -9 (`scales` input): Resize with asymmetric
    /// coordinates, scales ≥ 1.
    static func upsample(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let modeName = try context.string("mode", "nearest")
        guard let mode = Mode(rawValue: modeName), mode != .cubic else { throw context.unsupported("mode", modeName) }
        let scales: [Double]
        if context.opset >= 9 {
            let input = try context.input(1)
            guard input.isFloatingPoint else { throw context.fail("scales must be float, not \(input.typeName)") }
            scales = input.doubleValues
        } else {
            guard let attribute = context.node.attribute("scales") else { throw context.fail("attribute scales is missing") }
            guard let values = attribute.floatsValue else { throw context.fail("attribute scales is not FLOATS") }
            scales = values.map(Double.init)
        }
        guard scales.count == x.shape.count else { throw context.fail("scales has \(scales.count) values for rank \(x.shape.count)") }
        if let small = scales.first(where: { !($0 >= 1) }) { throw context.fail("scale \(small) is below 1 (Upsample only enlarges)") }
        let targets = try scaleTargets(context, shape: x.shape, axes: Array(x.shape.indices), scales: scales)
        return try run(context, x, settings: Settings(mode: mode, coordinates: .asymmetric, rounding: .simple), targets: targets)
    }

    // MARK: - Coordinates and weights

    /// Per axis, for each output coordinate: the input indices it reads and their weights.
    struct AxisTable {
        var input: Int
        var output: Int
        var taps: Int
        /// `output·taps` input indices, clamped into the axis.
        var indices: [Int]
        var weights: [Double]
        /// tf_crop_and_resize: the output coordinates whose source lies outside the input.
        var outside: [Bool]?

        /// Copies the axis unchanged: the same length, each output reading its own index only.
        var isIdentity: Bool {
            guard input == output, outside == nil else { return false }
            for o in 0..<output {
                for k in 0..<taps {
                    let weight = weights[o * taps + k]
                    if indices[o * taps + k] == o ? weight != 1 : weight != 0 { return false }
                }
            }
            return true
        }
    }

    /// The source coordinate of output index `o` (ONNX's coordinate_transformation_mode).
    static func sourceCoordinate(_ o: Int, _ target: AxisTarget, _ coordinates: Coordinates) -> Double {
        let x = Double(o), input = Double(target.input), output = Double(target.output), scale = target.scale
        switch coordinates {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = output / target.exactOutput
            let offset = input / 2 * (1 - adjustment)
            return offset + (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return target.output > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return target.output > 1 ? x * (input - 1) / (output - 1) : 0
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        case .tfCropAndResize:
            let (start, end) = target.roi
            return target.output > 1
                ? start * (input - 1) + x * (end - start) * (input - 1) / (output - 1)
                : 0.5 * (start + end) * (input - 1)
        }
    }

    /// The index nearest_mode picks for source coordinate `x` (before clamping).
    static func nearestIndex(_ x: Double, _ rounding: Rounding, downscaling: Bool) -> Double {
        switch rounding {
        case .roundPreferFloor: return x - x.rounded(.down) == 0.5 ? x.rounded(.down) : x.rounded(.toNearestOrAwayFromZero)
        case .roundPreferCeil: return x - x.rounded(.down) == 0.5 ? x.rounded(.up) : x.rounded(.toNearestOrAwayFromZero)
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .simple: return downscaling ? x.rounded(.up) : x.rounded(.towardZero)
        }
    }

    /// Keys' cubic convolution kernel with parameter `a`, at distance |t|.
    static func cubicKernel(_ t: Double, _ a: Double) -> Double {
        let t = abs(t)
        if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
        if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
        return 0
    }

    static func table(_ target: AxisTarget, _ settings: Settings) -> AxisTable {
        let input = target.input, output = target.output
        let last = Double(input - 1)
        func clamp(_ i: Int) -> Int { min(max(i, 0), input - 1) }
        var taps: Int
        var start = 0  // the first tap's offset from ⌊x⌋
        switch settings.mode {
        case .nearest: taps = 1
        case .linear: taps = 2
        case .cubic: taps = 4; start = -1
        }
        var stretch = 1.0
        if settings.antialias, settings.mode != .nearest, target.scale < 1 {
            stretch = target.scale
            let support = settings.mode == .linear ? 1.0 : 2.0
            start = Int((-support / stretch).rounded(.down)) + 1
            taps = 2 - 2 * start
        }
        var indices = [Int](repeating: 0, count: output * taps)
        var weights = [Double](repeating: 0, count: output * taps)
        var outside: [Bool]? = settings.coordinates == .tfCropAndResize ? [Bool](repeating: false, count: output) : nil
        let downscaling = target.scale < 1
        for o in 0..<output {
            var x = sourceCoordinate(o, target, settings.coordinates)
            if outside != nil, !(x >= 0 && x <= last) {
                outside?[o] = true
                x = 0  // any valid reading: the output is the extrapolation value
            }
            let row = o * taps
            switch settings.mode {
            case .nearest:
                let index = nearestIndex(x, settings.rounding, downscaling: downscaling)
                indices[row] = index.isNaN ? 0 : index < 0 ? 0 : index > last ? input - 1 : Int(index)
                weights[row] = 1
            case .linear where stretch == 1:
                // ONNX Runtime clamps the coordinate first: taps ⌊x⌋ and ⌊x⌋ + 1 inside the axis.
                let clamped = x.isNaN ? 0 : min(max(x, 0), last)
                let base = Int(clamped.rounded(.down))
                let r = clamped - Double(base)
                indices[row] = base
                indices[row + 1] = min(base + 1, input - 1)
                // At the last index both taps read the same element: ONNX Runtime weights them
                // ½ and ½, so an infinity there stays one (1·v + 0·v would be NaN).
                let same = indices[row] == indices[row + 1]
                weights[row] = same ? 0.5 : 1 - r
                weights[row + 1] = same ? 0.5 : r
            default:
                let floorX = x.isNaN ? 0 : x.rounded(.down)
                let base = Int(max(min(floorX, 0x1p52), -0x1p52))
                let r = x.isNaN ? 0 : x - floorX
                var sum = 0.0, kept = 0.0
                for k in 0..<taps {
                    let offset = Double(start + k) - r
                    let weight = settings.mode == .linear
                        ? max(0, 1 - abs(offset * stretch))
                        : cubicKernel(offset * stretch, settings.cubicA)
                    let index = base + start + k
                    let isInside = index >= 0 && index < input
                    weights[row + k] = settings.excludeOutside && !isInside ? 0 : weight
                    indices[row + k] = clamp(index)
                    sum += weight
                    kept += weights[row + k]
                }
                let total = settings.excludeOutside ? kept : stretch < 1 ? sum : 1
                if total != 1, total != 0 {
                    for k in 0..<taps { weights[row + k] /= total }
                }
            }
        }
        return AxisTable(input: input, output: output, taps: taps, indices: indices, weights: weights, outside: outside)
    }

    // MARK: - Running

    static func run(_ context: NodeContext, _ x: Buffer, settings: Settings, targets: [AxisTarget]) throws(InterpreterError) -> Buffer {
        let shape = targets.map(\.output)
        let count = try context.elementCount(of: shape)
        if settings.coordinates == .alignCorners || settings.coordinates == .tfCropAndResize {
            for (axis, target) in targets.enumerated() where target.exactOutput != Double(target.output) {
                throw context.unsupported("coordinate_transformation_mode",
                    "\(settings.coordinates.rawValue) with the fractional output length \(target.exactOutput) on axis \(axis) (ONNX Runtime and the ONNX reference disagree)")
            }
        }
        guard count > 0 else { return Buffer(shape: shape, storage: x.storage.emptied, integerType: x.integerType) }
        if x.shape.contains(0) { throw context.fail("cannot resize the empty input \(x.shape) to \(shape)") }
        var tables: [AxisTable?] = []
        for target in targets {
            // ONNX Runtime copies an axis of scale 1 whatever the coordinate mode (a crop or
            // tf_half_pixel_for_nn's half-pixel shift included).
            if target.scale == 1, target.output == target.input {
                tables.append(nil)
                continue
            }
            let table = table(target, settings)
            tables.append(table.isIdentity ? nil : table)
        }
        let storage: Buffer.Storage
        if settings.mode == .nearest {
            switch x.storage {
            case .float(let v): storage = .float(ResizeKernels.nearest(v, x.shape, tables, fill: Float(settings.extrapolation)))
            case .double(let v): storage = .double(ResizeKernels.nearest(v, x.shape, tables, fill: settings.extrapolation))
            case .int64(let v): storage = .int64(ResizeKernels.nearest(v, x.shape, tables, fill: Buffer.truncated(settings.extrapolation)))
            case .bool(let v): storage = .bool(ResizeKernels.nearest(v, x.shape, tables, fill: settings.extrapolation != 0))
            }
        } else {
            switch x.storage {
            case .float(let v): storage = .float(ResizeKernels.interpolate(v, x.shape, tables, fill: Float(settings.extrapolation)))
            case .double(let v): storage = .double(ResizeKernels.interpolate(v, x.shape, tables, fill: settings.extrapolation))
            default: throw context.unsupported("mode", "\(settings.mode.rawValue) on \(x.typeName) input")
            }
        }
        return Buffer(shape: shape, storage: storage, integerType: x.integerType)
    }
}

extension Buffer.Storage {
    /// No elements, of the same type.
    var emptied: Buffer.Storage {
        switch self {
        case .float: .float([])
        case .double: .double([])
        case .int64: .int64([])
        case .bool: .bool([])
        }
    }
}
