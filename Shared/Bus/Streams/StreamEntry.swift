/// One stream entry as read back. Values are kept as bytes so binary payloads
/// survive; `fields` and the subscript give the common text view.
public struct StreamEntry: Sendable, Hashable {
    /// The Redis entry ID, "<ms>-<seq>".
    public let id: String
    public let rawFields: [String: [UInt8]]

    public init(id: String, rawFields: [String: [UInt8]]) {
        self.id = id
        self.rawFields = rawFields
    }

    public init(id: String, fields: [String: String]) {
        self.init(id: id, rawFields: fields.mapValues { Array($0.utf8) })
    }

    /// Values as text; invalid UTF-8 is repaired, use `rawFields` for binary.
    public var fields: [String: String] {
        rawFields.mapValues { String(decoding: $0, as: UTF8.self) }
    }

    public subscript(field: String) -> String? {
        rawFields[field].map { String(decoding: $0, as: UTF8.self) }
    }
}

/// One entry to publish.
public struct BusMessage: Sendable, Hashable {
    public var stream: String
    public var rawFields: [String: [UInt8]]

    public init(stream: String, rawFields: [String: [UInt8]]) {
        self.stream = stream
        self.rawFields = rawFields
    }

    public init(stream: String, fields: [String: String]) {
        self.init(stream: stream, rawFields: fields.mapValues { Array($0.utf8) })
    }
}
