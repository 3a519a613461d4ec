/// DepthToSpace and SpaceToDepth, any element type, on (N, C, H, W) with block size `b`:
///
/// - DepthToSpace: `Y[n, c, h·b + i, w·b + j] = X[n, d, h, w]` with `d = (i·b + j)·C/b² + c`
///   (DCR, the default) or `d = c·b² + i·b + j` (CRD);
/// - SpaceToDepth: `Y[n, d, h, w] = X[n, c, h·b + i, w·b + j]` with the same two orders of `d`
///   (DCR, the default, `d = (i·b + j)·C + c`; CRD `d = c·b² + i·b + j`).
enum DepthSpace {
    enum Order: String { case dcr = "DCR", crd = "CRD" }

    static func depthToSpace(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let (x, block, order) = try operands(context)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (square, overflow) = block.multipliedReportingOverflow(by: block)
        let (height, overflowH) = h.multipliedReportingOverflow(by: block)
        let (width, overflowW) = w.multipliedReportingOverflow(by: block)
        guard !overflow, !overflowH, !overflowW else { throw context.fail("blocksize \(block) is too large for \(x.shape)") }
        guard c % square == 0 else { throw context.fail("\(c) channels are not divisible by blocksize² = \(square)") }
        let outChannels = c / square
        let shape = [n, outChannels, height, width]
        _ = try context.elementCount(of: shape)
        func move<E>(_ values: [E]) -> [E] {
            return [E](filling: values.count) { out in
                values.withUnsafeBufferPointer { input in
                    var written = 0
                    for batch in 0..<n {
                        for channel in 0..<outChannels {
                            for row in 0..<h {
                                for i in 0..<block {
                                    for j in 0..<block {
                                        let depth = order == .dcr ? (i * block + j) * outChannels + channel : channel * square + i * block + j
                                        let source = ((batch * c + depth) * h + row) * w
                                        for column in 0..<w { out[written + column * block + j] = input[source + column] }
                                    }
                                    written += width
                                }
                            }
                        }
                    }
                }
            }
        }
        let storage: Buffer.Storage = switch x.storage {
        case .float(let v): .float(move(v))
        case .double(let v): .double(move(v))
        case .int64(let v): .int64(move(v))
        case .bool(let v): .bool(move(v))
        }
        return Buffer(shape: shape, storage: storage, integerType: x.integerType)
    }

    static func spaceToDepth(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let (x, block, order) = try operands(context)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        guard h % block == 0, w % block == 0 else {
            throw context.fail("spatial size \(h)×\(w) is not divisible by blocksize \(block)")
        }
        let (outH, outW) = (h / block, w / block)
        let (square, overflow1) = block.multipliedReportingOverflow(by: block)
        let (channels, overflow2) = c.multipliedReportingOverflow(by: square)
        guard !overflow1, !overflow2 else { throw context.fail("\(c) channels × blocksize² overflows") }
        let shape = [n, channels, outH, outW]
        _ = try context.elementCount(of: shape)
        func move<E>(_ values: [E]) -> [E] {
            [E](filling: values.count) { out in
                values.withUnsafeBufferPointer { input in
                    for batch in 0..<n {
                        for channel in 0..<c {
                            for i in 0..<block {
                                for j in 0..<block {
                                    let depth = order == .dcr ? (i * block + j) * c + channel : channel * square + i * block + j
                                    let target = (batch * channels + depth) * outH * outW
                                    for row in 0..<outH {
                                        let source = ((batch * c + channel) * h + row * block + i) * w + j
                                        for column in 0..<outW { out[target + row * outW + column] = input[source + column * block] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let storage: Buffer.Storage = switch x.storage {
        case .float(let v): .float(move(v))
        case .double(let v): .double(move(v))
        case .int64(let v): .int64(move(v))
        case .bool(let v): .bool(move(v))
        }
        return Buffer(shape: shape, storage: storage, integerType: x.integerType)
    }

    private static func operands(_ context: NodeContext) throws(InterpreterError) -> (Buffer, Int, Order) {
        let x = try context.input(0)
        guard x.shape.count == 4 else { throw context.fail("input of shape \(x.shape) is not (N, C, H, W)") }
        guard context.node.attribute("blocksize") != nil else { throw context.fail("attribute blocksize is missing") }
        let block = try context.int("blocksize", 0)
        guard block > 0 else { throw context.fail("blocksize \(block) is not positive") }
        let modeName = try context.string("mode", "DCR")
        guard let order = Order(rawValue: modeName) else { throw context.unsupported("mode", modeName) }
        return (x, block, order)
    }
}
