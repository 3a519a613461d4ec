/// One dimension of a declared shape.
public enum ShapeDimension: Hashable, Sendable {
    /// A known size.
    case fixed(Int)
    /// A named size bound at run time ("batch", "N", …).
    case symbolic(String)
    /// A dimension the producer left blank.
    case unknown

    public var fixedValue: Int? {
        if case .fixed(let value) = self { return value }
        return nil
    }
}

extension ShapeDimension: CustomStringConvertible {
    public var description: String {
        switch self {
        case .fixed(let value): String(value)
        case .symbolic(let name): name
        case .unknown: "?"
        }
    }
}

/// A named value flowing along the graph's edges, with whatever type information the file gave.
public struct Value: Hashable, Sendable {
    public var name: String
    /// nil when the file does not say (or declares a non-tensor type).
    public var elementType: ElementType?
    /// nil when the rank is unknown.
    public var shape: [ShapeDimension]?

    public init(name: String, elementType: ElementType? = nil, shape: [ShapeDimension]? = nil) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }

    /// The shape as concrete sizes, when every dimension is fixed.
    public var fixedShape: [Int]? {
        guard let shape else { return nil }
        var sizes: [Int] = []
        for dimension in shape {
            guard let size = dimension.fixedValue else { return nil }
            sizes.append(size)
        }
        return sizes
    }

    /// "float[1,3,224,224]", "int64[N]", "?".
    public var typeDescription: String {
        let type = elementType?.onnxName ?? "?"
        guard let shape else { return type }
        return "\(type)[\(shape.map(\.description).joined(separator: ","))]"
    }
}
