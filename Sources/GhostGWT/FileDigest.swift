import CCrypto
import GhostIR

/// SHA-256 of a file (through OpenSSL's libcrypto), recorded in .gwt metadata so a fused model
/// names exactly the source it came from.
public enum FileDigest {
    public static func sha256(path: String) throws(FileMappingError) -> String {
        let file = try MappedFile(path: path)
        return sha256(file.bytes)
    }

    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        if let base = bytes.baseAddress, bytes.count > 0 {
            EVP_DigestUpdate(context, base, bytes.count)
        }
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
