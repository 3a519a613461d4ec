import CKernels

/// A convolution's output plane cut into rectangles inside which every kernel tap either reads
/// the image for every position or reads only padding for every position, for running the
/// padded border of a dilated convolution without the taps that fall in the padding.
///
/// Along each axis the output positions are cut where some kernel offset's valid range
/// (`Convolution.validRange`) starts or ends; a band then has a fixed set of offsets, each valid
/// for all its positions. A region is a row band × a column band, and its taps are the pairs of
/// the two sets. With finite weights a tap over padding adds w·0 = ±0 to a sum that starts at +0
/// and so is never −0: leaving it out changes no bit, so each output is still the same k-ordered
/// FMA chain over the taps that read the image. DeepLabV3's ASPP 3×3s over a 32² map (dilation
/// 12, 24, 36) keep 56%, 25% and 11% of the tap-positions.
struct TapRegions {
    /// Output positions `start ..< end` along one axis and the kernel offsets valid for all of them
    /// (ascending).
    struct Band {
        let start: Int, end: Int
        let offsets: [Int]
    }

    struct Region {
        let rows: Band, columns: Band
        /// Kernel taps (ky·kw + kx), ascending: the k order of the GEMM.
        let taps: [Int]
        var count: Int { (rows.end - rows.start) * (columns.end - columns.start) }
    }

    let regions: [Region]
    /// Tap-positions computed over those of the whole plane × every tap.
    let work: Double

    /// Regions are worth their extra products (one per region, several small) only when they
    /// keep at most this share of the work: an ordinary padded 3×3 over a small map (MobileViT's
    /// 8², 84%) would trade one product for nine of 1–36 columns.
    static let maximumWork = 0.7

    /// nil when the cut would keep more than `maximumWork` of the work (the plain im2col is then
    /// faster) or the output is empty.
    init?(_ g: Convolution.Geometry) {
        guard g.outputHeight >= 1, g.outputWidth >= 1, Self.fitsTheGather(g) else { return nil }
        let rows = Self.bands(g, axis: 0, kernel: g.kernelHeight, output: g.outputHeight)
        let columns = Self.bands(g, axis: 1, kernel: g.kernelWidth, output: g.outputWidth)
        var regions: [Region] = []
        var kept = 0
        for rowBand in rows {
            for columnBand in columns {
                let taps = rowBand.offsets.flatMap { ky in columnBand.offsets.map { kx in ky * g.kernelWidth + kx } }
                let region = Region(rows: rowBand, columns: columnBand, taps: taps)
                kept += region.count * taps.count
                regions.append(region)
            }
        }
        let total = Double(g.outputHeight) * Double(g.outputWidth) * Double(g.kernelHeight * g.kernelWidth)
        work = Double(kept) / total
        guard work <= Self.maximumWork else { return nil }
        self.regions = regions
    }

    /// Whether the gather's arithmetic (32-bit strides and counts, `strides[0]·width` row steps,
    /// start offsets `start·stride − pad + k·dilation`) cannot overflow: every figure of the
    /// geometry below 2³⁰. Real convolutions are far inside; a crafted one (a column stride of
    /// 2³³ over a one-column output) takes the general path, which checks its products.
    private static func fitsTheGather(_ g: Convolution.Geometry) -> Bool {
        let limit = 1 << 30
        let figures = [g.height, g.width, g.kernelHeight, g.kernelWidth, g.outputHeight, g.outputWidth, g.inputPerGroup]
            + g.strides + g.dilations + g.pads
        return figures.allSatisfy { $0 >= 0 && $0 < limit }
    }

    /// The bands of one axis: cut at 0, at `output`, and where each offset's valid range starts
    /// and ends.
    private static func bands(_ g: Convolution.Geometry, axis: Int, kernel: Int, output: Int) -> [Band] {
        let ranges = (0..<kernel).map { Convolution.validRange(kernelOffset: $0, g: g, axis: axis) }
        var cuts: Set<Int> = [0, output]
        for (first, last) in ranges where first <= last {
            cuts.insert(first)
            cuts.insert(last + 1)
        }
        let sorted = cuts.filter { $0 >= 0 && $0 <= output }.sorted()
        return zip(sorted, sorted.dropFirst()).map { start, end in
            let offsets = ranges.indices.filter { ranges[$0].0 <= start && end - 1 <= ranges[$0].1 }
            return Band(start: start, end: end, offsets: offsets)
        }
    }

    /// The GEMM columns (input channel c, tap) a region multiplies by, for `channels` input
    /// channels of `taps.count` taps each out of `perChannel`: c·perChannel + tap, ascending.
    static func columns(channels: Int, perChannel: Int, taps: [Int]) -> [Int] {
        (0..<channels).flatMap { c in taps.map { c * perChannel + $0 } }
    }

    /// im2col of one region: col[(c, tap)][(oy − oy0)·w + (ox − ox0)] = x[c][oy·s − p + ky·d][ox·s − p + kx·d],
    /// every index in bounds by the regions' construction (CKernels' `gk_region_gather_*`).
    static func gather<T: InterpreterScalar>(_ x: UnsafePointer<T>, _ col: UnsafeMutablePointer<T>, _ g: Convolution.Geometry,
                                             channels: Int, region: Region) {
        let (rows, columns) = (region.rows, region.columns)
        let offsets = region.taps.map { tap in
            let (ky, kx) = tap.quotientAndRemainder(dividingBy: g.kernelWidth)
            let iy = rows.start * g.strides[0] - g.pads[0] + ky * g.dilations[0]
            let ix = columns.start * g.strides[1] - g.pads[1] + kx * g.dilations[1]
            return iy * g.width + ix
        }
        let plane = g.height * g.width, rowStep = g.strides[0] * g.width
        let (height, width) = (Int32(rows.end - rows.start), Int32(columns.end - columns.start))
        offsets.withUnsafeBufferPointer { o in
            if T.self == Float.self {
                x.withMemoryRebound(to: Float.self, capacity: 1) { xf in
                    col.withMemoryRebound(to: Float.self, capacity: 1) { cf in
                        gk_region_gather_f32(xf, plane, rowStep, Int32(g.strides[1]), Int32(channels), o.baseAddress!,
                                             Int32(region.taps.count), height, width, cf)
                    }
                }
            } else {
                x.withMemoryRebound(to: Double.self, capacity: 1) { xd in
                    col.withMemoryRebound(to: Double.self, capacity: 1) { cd in
                        gk_region_gather_f64(xd, plane, rowStep, Int32(g.strides[1]), Int32(channels), o.baseAddress!,
                                             Int32(region.taps.count), height, width, cd)
                    }
                }
            }
        }
    }
}

extension Convolution {
    /// One GEMM per region, image and group, each by the packed weights of the region's taps
    /// (`PackedWeights.keeping(taps:perChannel:as:)`) on `TapRegions.gather`'s columns; a region
    /// with no tap is +0. A region as wide as the output writes its rows of C in place; a narrower
    /// one goes through a scratch and is copied into its rectangle. Writes every element of `out`
    /// and returns true, or returns false with `out` untouched when the weights are not in T.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func byRegions<T: InterpreterScalar>(_ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ g: Geometry,
                                                packed: PackedWeights, regions: TapRegions) -> Bool {
        let perChannel = g.kernelHeight * g.kernelWidth
        var weights: [PackedWeights?] = []
        for region in regions.regions {
            guard !region.taps.isEmpty else {
                weights.append(nil)
                continue
            }
            guard let reduced = packed.keeping(taps: region.taps, perChannel: perChannel, as: T.self) else { return false }
            weights.append(reduced)
        }
        let plane = g.outputHeight * g.outputWidth
        let outPerGroup = g.outputChannels / g.groups
        let columnCount = regions.regions.map { g.inputPerGroup * $0.taps.count * $0.count }.max() ?? 0
        let narrow = regions.regions.filter { $0.columns.end - $0.columns.start < g.outputWidth }
        let scratchCount = narrow.map { outPerGroup * $0.count }.max() ?? 0
        // Both at most the full im2col's and the output's size, which the node already checked.
        var columns = [T](filling: max(1, columnCount)) { _ in }
        var scratch = [T](filling: max(1, scratchCount)) { _ in }
        columns.withUnsafeMutableBufferPointer { columnBuffer in
            scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                let (col, temporary) = (columnBuffer.baseAddress!, scratchBuffer.baseAddress!)
                for n in 0..<g.batch {
                    for group in 0..<g.groups {
                        let input = x + (n * g.inputChannels + group * g.inputPerGroup) * g.height * g.width
                        let target = out + (n * g.outputChannels + group * outPerGroup) * plane
                        for (region, reduced) in zip(regions.regions, weights) {
                            let width = region.columns.end - region.columns.start, count = region.count
                            let inPlace = width == g.outputWidth
                            let c = inPlace ? target + region.rows.start * g.outputWidth : temporary
                            let ldc = inPlace ? plane : count
                            if let reduced {
                                TapRegions.gather(input, col, g, channels: g.inputPerGroup, region: region)
                                reduced.multiply(group: group, col, ldb: count, n: count, into: c, ldc: ldc)
                            } else {
                                for m in 0..<outPerGroup { (c + m * ldc).update(repeating: 0, count: count) }
                            }
                            guard !inPlace else { continue }
                            for m in 0..<outPerGroup {
                                for row in 0..<(region.rows.end - region.rows.start) {
                                    let destination = target + m * plane + (region.rows.start + row) * g.outputWidth + region.columns.start
                                    destination.update(from: c + m * count + row * width, count: width)
                                }
                            }
                        }
                    }
                }
            }
        }
        return true
    }
}
