/// The signing key file format shared with Synapse: one key per line,
/// `ed25519 <version> <unpadded base64 seed>`. Keeping it lets operators move keys
/// between servers unchanged.
extension SigningKey {
    /// This key as one line of a key file (with trailing newline).
    public var keyFileLine: String {
        "\(SigningKey.algorithm) \(version) \(Base64.encodeUnpadded(seed))\n"
    }

    /// Every key in a key file. Blank lines are skipped; anything else malformed is an error
    /// because a silently dropped key would change the server's identity.
    public static func parseKeyFile(_ text: String) throws(SigningKeyError) -> [SigningKey] {
        var keys: [SigningKey] = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3 else { throw .malformedLine(String(line)) }
            guard fields[0] == Substring(SigningKey.algorithm) else { throw .unsupportedAlgorithm(String(fields[0])) }
            guard let seed = Base64.decode(String(fields[2])) else { throw .invalidBase64 }
            keys.append(try SigningKey(seed: seed, version: String(fields[1])))
        }
        return keys
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
