import HTTPTypes
import MatrixCore

/// A handler's answer: a status with a JSON body (encoded once, here), or raw bytes.
public struct MatrixResponse: Sendable {
    public var status: HTTPResponse.Status
    public var body: [UInt8]
    public var contentType: String
    public var headers: [(HTTPField.Name, String)] = []

    public init(status: HTTPResponse.Status = .ok, json: JSON) {
        self.status = status
        self.body = json.compactBytes
        self.contentType = "application/json"
    }

    public init(status: HTTPResponse.Status = .ok, bytes: [UInt8], contentType: String) {
        self.status = status
        self.body = bytes
        self.contentType = contentType
    }

    public static func json(_ j: JSON, status: HTTPResponse.Status = .ok) -> MatrixResponse { .init(status: status, json: j) }
    public static var empty: MatrixResponse { .init(json: .object([:])) }
}
