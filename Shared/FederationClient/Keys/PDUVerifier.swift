import MatrixCore

/// Steps 1–3 of the checks on a received PDU: its format, the signatures of every server
/// that must have signed it (keys fetched through the key ring), and its content hash. A
/// PDU whose hash does not match is kept in its redacted form, as the spec says.
public struct PDUVerifier: Sendable {
    let keys: ServerKeyRing

    public init(keys: ServerKeyRing) {
        self.keys = keys
    }

    public struct Verified: Sendable {
        public let event: Event
        /// The content hash did not match: `event` is the redacted copy.
        public let redacted: Bool
    }

    /// `signedHere`: the server that is about to add its own signature (a restricted join
    /// arriving through `send_join` at the server that authorises it); its signature is not
    /// required yet, but checked if present.
    public func verify(_ json: JSON, version: RoomVersion, signedHere: String? = nil) async throws(PDUVerifyError) -> Verified {
        let event: Event
        do {
            event = try ReceivedPDU.parse(json, version: version)
        } catch {
            throw .format(error.description)
        }
        for server in ReceivedPDU.requiredSigners(event, version: version) {
            if server == signedHere, event.json.signatureKeyIDs(of: server).isEmpty { continue }
            try await checkSignature(event, of: server, version: version)
        }
        if event.json.hasValidContentHash { return Verified(event: event, redacted: false) }
        return Verified(event: Event(eventID: event.eventID, json: event.json.redacted(for: version)), redacted: true)
    }

    /// At least one signature of `server` by a key we can get, and none of those bad. Keys
    /// we cannot find, or that had expired when the event was made, are skipped.
    private func checkSignature(_ event: Event, of server: String, version: RoomVersion) async throws(PDUVerifyError) {
        guard let name = ServerName(server) else { throw .signature("\(server) is not a server name") }
        let keyIDs = event.json.signatureKeyIDs(of: server).filter { $0.hasPrefix(SigningKey.algorithm + ":") }
        var verified = false
        for keyID in keyIDs {
            let key: VerifyKey
            do {
                key = try await keys.verifyKey(server: name, keyID: keyID, validAt: event.originServerTS)
            } catch {
                continue
            }
            do {
                try event.json.verifyEventSignature(for: version, server: server, key: key)
            } catch {
                throw .signature("the signature of \(server) (\(keyID)) does not verify")
            }
            verified = true
        }
        guard verified else { throw .signature("no verifiable signature of \(server)") }
    }
}

public enum PDUVerifyError: Error, Sendable, Equatable, CustomStringConvertible {
    case format(String)
    case signature(String)

    public var description: String {
        switch self {
        case .format(let m): return "invalid PDU: \(m)"
        case .signature(let m): return "bad signature: \(m)"
        }
    }
}
