import GhostIR
@testable import GhostNumPy
import Testing

private func parse(_ text: String) throws(NPYFormatError) -> NPYHeader {
    try NPYHeader.parse(Array(text.utf8)[...], file: "h.npy", offset: 10)
}

@Test(arguments: [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", [2, 3]),
    ("{'shape': (), 'descr': '<f4', 'fortran_order': False}", []),
    ("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (5,)}   \n", [5]),
    ("{'descr':'<f4','fortran_order':False,'shape':(1,2,3,)}", [1, 2, 3]),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (7L, 2L), }", [7, 2]),  // Python 2 longs
])
func headersNumPyWritesAreRead(text: String, shape: [Int]) throws {
    let header = try parse(text)
    #expect(header == NPYHeader(descr: "<f4", fortranOrder: false, shape: shape))
}

/// A header that must be refused, and the file offset the error must name.
struct BadHeader: CustomTestStringConvertible, Sendable {
    let name: String
    let text: String
    let offset: Int
    var testDescription: String { name }
}

@Test(arguments: [
    BadHeader(name: "not a dict", text: "['<f4']", offset: 10),
    BadHeader(name: "extra key", text: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", offset: 10 + 56),
    BadHeader(name: "repeated key", text: "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", offset: 10 + 17),
    BadHeader(name: "structured descr", text: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", offset: 10 + 10),
    BadHeader(name: "shape not a tuple", text: "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", offset: 10 + 50),
    BadHeader(name: "parenthesized int", text: "{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", offset: 10 + 52),
    BadHeader(name: "negative size", text: "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", offset: 10 + 51),
    BadHeader(name: "size past 64 bits", text: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", offset: 10 + 51),
    BadHeader(name: "order not a bool", text: "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", offset: 10 + 34),
    BadHeader(name: "unclosed string", text: "{'descr': '<f4", offset: 10 + 10),
    BadHeader(name: "unquoted key", text: "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", offset: 10 + 17),
    BadHeader(name: "escape", text: "{'descr': '<f\\4', 'fortran_order': False, 'shape': (1,)}", offset: 10 + 13),
    BadHeader(name: "text after the dict", text: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", offset: 10 + 56),
    BadHeader(name: "missing shape", text: "{'descr': '<f4', 'fortran_order': False}", offset: 10),
    BadHeader(name: "pickle call", text: "cnumpy.core.multiarray\n_reconstruct", offset: 10),
])
func malformedHeadersNameTheOffset(_ bad: BadHeader) {
    do {
        _ = try parse(bad.text)
        Issue.record("\(bad.name) was accepted")
    } catch {
        #expect(error.code == "invalid-header")
        #expect(error == .invalidHeader(file: "h.npy", offset: bad.offset, problem: problem(of: error)), "\(error.localizedDescription)")
        #expect(error.localizedDescription.contains("h.npy"))
    }
}

private func problem(of error: NPYFormatError) -> String {
    if case .invalidHeader(_, _, let problem) = error { return problem }
    return ""
}
