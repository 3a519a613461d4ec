import ArgumentParser
import Foundation
import GhostInterpreter

struct Operators: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the ONNX operators the reference interpreter runs (what run and verify accept).",
        discussion: """
            The list is the interpreter's operator table, the same one docs/operators.md is generated \
            from. A model using any other operator, or another domain, is refused by run and verify \
            with [unsupported-operator] naming the node; fuse does not need the interpreter.

            Examples:
              ghost-convert operators
              ghost-convert operators --json | jq '.[] | .opTypes[]'
              ghost-convert operators --markdown > operators.md
            """
    )

    @Flag(help: "JSON: [{\"family\": …, \"opTypes\": […]}] in table order.")
    var json = false

    @Flag(help: "The Markdown tables of docs/operators.md, with each operator's notes.")
    var markdown = false

    func validate() throws {
        guard !(json && markdown) else { throw ValidationError("--json and --markdown exclude each other") }
    }

    func run() throws {
        let families = OperatorRegistry.opTypesByFamily
        if markdown {
            print(OperatorRegistry.markdownTable, terminator: "")
        } else if json {
            struct Family: Encodable { let family: String; let opTypes: [String] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(families.map { Family(family: $0.family, opTypes: $0.opTypes) })
            print(String(decoding: data, as: UTF8.self))
        } else {
            for (family, opTypes) in families {
                print("\(family): \(opTypes.joined(separator: ", "))")
            }
            print("\(OperatorRegistry.supportedOpTypes.count) operators of the default ONNX domain")
        }
    }
}
