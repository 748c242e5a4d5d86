/// The `Authorization: X-Matrix …` header of a server-server request (spec "Request
/// Authentication"): who sent it, to whom, with which key, and the signature.
public struct XMatrixAuthorization: Sendable, Equatable {
    public let origin: String
    /// Optional on input for older senders; always sent.
    public let destination: String?
    public let keyID: String
    public let signature: String

    public init(origin: String, destination: String?, keyID: String, signature: String) {
        self.origin = origin
        self.destination = destination
        self.keyID = keyID
        self.signature = signature
    }

    /// The header as older servers parse it too: one space after the scheme, lower-case
    /// names, quoted values, no whitespace around commas.
    public var headerValue: String {
        var parts = ["origin=\"\(origin)\""]
        if let destination { parts.append("destination=\"\(destination)\"") }
        parts.append("key=\"\(keyID)\"")
        parts.append("sig=\"\(signature)\"")
        return "X-Matrix " + parts.joined(separator: ",")
    }

    /// Parses an `Authorization` value (RFC 9110 §11.4 credentials with the `X-Matrix`
    /// scheme). Quoted values may hold escapes; unquoted ones may hold colons.
    /// Unknown parameters are ignored; a repeated one is an error.
    public static func parse(_ header: String) throws(XMatrixParseError) -> XMatrixAuthorization {
        let bytes = Array(header.utf8)
        let scheme = Array("x-matrix".utf8)
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ lower($0) == $1 }),
              bytes[scheme.count] == space else { throw .notXMatrix }
        var i = scheme.count
        var params: [String: String] = [:]
        func skipWhitespace() { while i < bytes.count, bytes[i] == space || bytes[i] == tab { i += 1 } }
        skipWhitespace()
        while i < bytes.count {
            let nameStart = i
            while i < bytes.count, bytes[i] != equals, bytes[i] != comma { i += 1 }
            guard i < bytes.count, bytes[i] == equals, i > nameStart else { throw .malformed("parameter without a value") }
            let name = String(decoding: bytes[nameStart..<i].map(lower), as: UTF8.self)
                .trimmingWhitespace()
            i += 1
            var value: [UInt8] = []
            if i < bytes.count, bytes[i] == quote {
                i += 1
                var closed = false
                while i < bytes.count {
                    let c = bytes[i]
                    if c == backslash, i + 1 < bytes.count {
                        value.append(bytes[i + 1])
                        i += 2
                    } else if c == quote {
                        i += 1
                        closed = true
                        break
                    } else {
                        value.append(c)
                        i += 1
                    }
                }
                guard closed else { throw .malformed("unterminated quoted value") }
            } else {
                while i < bytes.count, bytes[i] != comma, bytes[i] != space, bytes[i] != tab {
                    value.append(bytes[i])
                    i += 1
                }
            }
            guard params[name] == nil else { throw .malformed("parameter \(name) given twice") }
            params[name] = String(decoding: value, as: UTF8.self)
            skipWhitespace()
            if i < bytes.count {
                guard bytes[i] == comma else { throw .malformed("expected a comma between parameters") }
                i += 1
                skipWhitespace()
            }
        }
        guard let origin = params["origin"], !origin.isEmpty else { throw .missing("origin") }
        guard let key = params["key"], !key.isEmpty else { throw .missing("key") }
        guard let sig = params["sig"], !sig.isEmpty else { throw .missing("sig") }
        return XMatrixAuthorization(origin: origin, destination: params["destination"], keyID: key, signature: sig)
    }
}

public enum XMatrixParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case notXMatrix
    case malformed(String)
    case missing(String)

    public var description: String {
        switch self {
        case .notXMatrix: return "Authorization is not of the X-Matrix scheme"
        case .malformed(let m): return "Malformed X-Matrix header: \(m)"
        case .missing(let p): return "X-Matrix header has no \(p)"
        }
    }
}

private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
private let equals = UInt8(ascii: "=")
private let comma = UInt8(ascii: ",")
private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

private func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
