import FederationClient
import MatrixCore
import ServiceKit
import Storage

/// `PUT /_matrix/federation/v1/send/{txnId}`: the PDUs and EDUs another server sends.
/// Each origin's transactions are answered once: a transaction sent again (a retry after a
/// lost answer) gets the stored answer and is not processed a second time.
extension ClientAPI {
    func federationTransactionRoutes(_ t: inout FederationRouteTable) {
        t.put("/_matrix/federation/v1/send/:txnId") { [self] req, origin in
            let txnID = try req.param("txnId")
            let body = try req.jsonBody()
            if let claimed = body["origin"], claimed.stringValue != origin.rawValue {
                throw MatrixError.forbidden("The transaction's origin is not the server that sent it")
            }
            guard let pdus = body["pdus"]?.arrayValue else { throw MatrixError.badJSON("pdus is required") }
            let edus = body["edus"]?.arrayValue ?? []
            guard pdus.count <= 50, edus.count <= 100 else {
                throw MatrixError.badJSON("A transaction carries at most 50 PDUs and 100 EDUs")
            }
            let inbox = FederationInboxStore(db: db)
            let answer = try await inboundTransactions.once(origin: origin.rawValue, txnID: txnID) { [self] in
                if let stored = try await inbox.transactionResponse(origin: origin.rawValue, txnID: txnID) {
                    return try JSON.parse(stored)
                }
                let results = try await receivePDUs(pdus, from: origin)
                await receiveEDUs(edus, from: origin)
                let response: JSON = ["pdus": .object(results)]
                try await inbox.saveTransactionResponse(origin: origin.rawValue, txnID: txnID, response: response.canonicalString)
                return response
            }
            return .json(answer)
        }
    }
}

/// One run per transaction at a time in this process: a transaction that arrives again
/// while the first copy is being processed waits for that one's answer.
actor InboundTransactionGate {
    private var running: [String: Task<JSON, any Error>] = [:]

    func once(origin: String, txnID: String, _ body: @escaping @Sendable () async throws -> JSON) async throws -> JSON {
        let key = origin + "\u{0}" + txnID
        if let t = running[key] { return try await t.value }
        let t = Task { try await body() }
        running[key] = t
        defer { running[key] = nil }
        return try await t.value
    }
}
