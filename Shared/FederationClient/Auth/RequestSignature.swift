import MatrixCore

/// What an X-Matrix signature covers: method, request target (path and query exactly as
/// sent), origin, destination and the parsed JSON body, signed as JSON by the origin.
public struct SignedRequest: Sendable {
    public let method: String
    /// The request target from `/_matrix/…`, with `?` and the query when present.
    public let uri: String
    public let origin: String
    public let destination: String
    public let content: JSON?

    public init(method: String, uri: String, origin: String, destination: String, content: JSON?) {
        self.method = method
        self.uri = uri
        self.origin = origin
        self.destination = destination
        self.content = content
    }

    /// The object whose signature goes in the header.
    public var signable: JSON {
        var o: [String: JSON] = [
            "method": .string(method),
            "uri": .string(uri),
            "origin": .string(origin),
            "destination": .string(destination),
        ]
        if let content { o["content"] = content }
        return .object(o)
    }

    /// The `Authorization` header this request carries when signed by `key`.
    public func authorization(signedBy key: SigningKey) -> XMatrixAuthorization {
        // signableBytes exists for any object, and `signable` is one.
        let signature = Base64.encodeUnpadded(key.sign(signable.signableBytes ?? []))
        return XMatrixAuthorization(origin: origin, destination: destination, keyID: key.keyID, signature: signature)
    }

    /// True when `signature` (unpadded Base64) is the origin's signature of this request by `key`.
    public func isSigned(_ signature: String, by key: VerifyKey) -> Bool {
        guard let sig = Base64.decode(signature), let bytes = signable.signableBytes else { return false }
        return key.isValidSignature(sig, for: bytes)
    }
}
