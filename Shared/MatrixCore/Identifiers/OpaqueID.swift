/// Random identifiers (room ID and event ID localparts, key versions, tokens).
/// Letters and digits only, which every identifier grammar accepts.
public enum OpaqueID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// `length` characters from `[A-Za-z0-9]`, from the system's secure generator.
    public static func generate(length: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(max(length, 0))
        for _ in 0..<max(length, 0) {
            out.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
