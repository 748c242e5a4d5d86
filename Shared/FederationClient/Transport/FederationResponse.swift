import MatrixCore

/// A peer's answer: the status and the body bytes.
public struct FederationResponse: Sendable {
    public let status: Int
    public let body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    /// The body as a JSON object, or nil.
    public var jsonObject: JSON? {
        guard let j = try? JSON.parse(body), j.objectValue != nil else { return nil }
        return j
    }

    /// The JSON object of a 2xx answer; anything else throws.
    public func requireJSON() throws(FederationError) -> JSON {
        guard (200..<300).contains(status) else { throw .http(status: status, body: jsonObject) }
        guard let j = jsonObject else { throw .invalidResponse("the answer is not a JSON object") }
        return j
    }
}
