import FederationClient
import Foundation
import Logging
import MatrixCore
import Metrics
import Storage

/// What every destination queue shares.
struct SenderContext: Sendable {
    let us: ServerName
    let outbox: FederationOutboxStore
    /// EDUs that must survive a restart (to-device, device lists), kept in Postgres.
    let durableEDUs: FederationOutboundEDUStore
    let leases: LeaseStore
    let federation: FederationClient
    /// This process, as a lease holder.
    let holder: String
    let config: SenderConfig
    let logger: Logger
    /// Transaction IDs are this process's start time and a counter: unique per origin.
    let startedMs: Int64
}

/// One transaction as first built: a retry sends exactly this again, under the same ID.
struct OutboundTransaction: Sendable {
    let id: String
    let body: JSON
    let pduCount: Int
    /// The last EDU it carries (EDU sequence numbers), to drop them once delivered.
    let lastEDU: Int?
    /// The same for the EDUs it carries from Postgres.
    let lastDurableEDU: Int64?
    let scannedUpTo: Int64
}

/// Sends to one destination, in order: the PDUs after its position in Postgres, in
/// transactions of at most 50, with the EDUs waiting for it (at most 100; first those kept
/// in Postgres, then the ephemeral ones held here). A failed
/// transaction is retried unchanged, after a pause that doubles per failure (up to a cap)
/// and ends early when the destination is heard from. Only the holder of the
/// destination's lease sends, so two processes never both do.
actor DestinationQueue {
    let destination: ServerName
    private let ctx: SenderContext
    private var edus: [(seq: Int, edu: JSON)] = []
    private var nextEDU = 0
    private var inFlight: OutboundTransaction?
    private var position: Int64?
    private var leaseUntilMs: Int64 = 0
    private var failures = 0
    private var txnCounter = 0
    private let wakes: AsyncStream<Void>
    private let wakeIn: AsyncStream<Void>.Continuation
    private var runner: Task<Void, Never>?
    /// The pause after a failure; cancelled when the destination turns out to be up.
    private var retryPause: Task<Void, Error>?

    init(destination: ServerName, context: SenderContext) {
        self.destination = destination
        self.ctx = context
        (wakes, wakeIn) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    var leaseName: String { "federation-sender:\(destination.rawValue)" }

    func start() {
        guard runner == nil else { return }
        runner = Task { await self.run() }
        wakeIn.yield()
    }

    /// There may be work: look at Postgres (soon, if a retry pause is running).
    nonisolated func wake() { wakeIn.yield() }

    func enqueue(_ edu: JSON) {
        edus.append((nextEDU, edu))
        nextEDU += 1
        if edus.count > SenderConfig.maxQueuedEDUs { edus.removeFirst(edus.count - SenderConfig.maxQueuedEDUs) }
        wakeIn.yield()
    }

    /// The destination reached us, so it is up: retry now, and start backing off afresh.
    func peerIsUp() {
        failures = 0
        retryPause?.cancel()
        wakeIn.yield()
    }

    func stop() async {
        runner?.cancel()
        wakeIn.finish()
        await runner?.value
        if leaseUntilMs > nowMillis() { try? await ctx.leases.release(leaseName, holder: ctx.holder) }
    }

    private func run() async {
        for await _ in wakes {
            await drain()
            if Task.isCancelled { return }
        }
    }

    /// Sends until nothing is left, retrying failures; returns when idle or cancelled.
    private func drain() async {
        while !Task.isCancelled {
            do {
                guard try await holdLease() else {
                    // Another process sends here. Its lease may lapse: look again later.
                    scheduleWake(after: .milliseconds(ctx.config.leaseTTLMs / 2))
                    return
                }
                if inFlight == nil { inFlight = try await nextTransaction() }
                guard let txn = inFlight else { return }
                try await deliver(txn)
                inFlight = nil
                failures = 0
                if let last = txn.lastEDU { edus.removeAll { $0.seq <= last } }
                if let last = txn.lastDurableEDU { try await ctx.durableEDUs.delivered(to: destination.rawValue, upTo: last) }
                if txn.scannedUpTo > (position ?? .min) {
                    position = txn.scannedUpTo
                    try await ctx.outbox.setPosition(of: destination.rawValue, to: txn.scannedUpTo)
                }
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                var delay = ctx.config.initialRetryDelay * (1 << min(failures - 1, 16))
                if delay > ctx.config.maxRetryDelay { delay = ctx.config.maxRetryDelay }
                if case FederationError.backingOff(_, let ms) = error, .milliseconds(ms) > delay { delay = .milliseconds(ms) }
                Counter(label: "myelin_federation_transactions_failed_total").increment()
                ctx.logger.info("federation to \(destination.rawValue) failed (\(failures) in a row); retrying in \(delay): \(error)")
                let pause = Task { try await Task.sleep(for: delay) }
                retryPause = pause
                _ = await withTaskCancellationHandler { await pause.result } onCancel: { pause.cancel() }
                retryPause = nil
                if Task.isCancelled { return }
            }
        }
    }

    /// True while this process holds the destination's lease, renewing it when it runs low.
    private func holdLease() async throws -> Bool {
        let now = nowMillis()
        if leaseUntilMs - now > ctx.config.leaseRenewMarginMs { return true }
        let held = leaseUntilMs > now
        if try await ctx.leases.acquire(leaseName, holder: ctx.holder, ttlMs: ctx.config.leaseTTLMs) {
            if !held { position = nil }   // another holder may have moved it meanwhile
            leaseUntilMs = now + ctx.config.leaseTTLMs
            return true
        }
        // Lost or never had it: whatever was in flight is the new holder's to send.
        leaseUntilMs = 0
        inFlight = nil
        position = nil
        return false
    }

    private func nextTransaction() async throws -> OutboundTransaction? {
        let from: Int64
        if let position { from = position } else {
            from = try await ctx.outbox.position(of: destination.rawValue)
            position = from
        }
        let batch = try await ctx.outbox.pendingEvents(for: destination.rawValue, us: ctx.us.rawValue, after: from,
                                                       limit: SenderConfig.maxPDUs)
        let durable = try await ctx.durableEDUs.pending(for: destination.rawValue, limit: SenderConfig.maxEDUs)
        let eduBatch = edus.prefix(SenderConfig.maxEDUs - durable.count)
        if batch.events.isEmpty && eduBatch.isEmpty && durable.isEmpty {
            if batch.scannedUpTo > from {
                position = batch.scannedUpTo
                try await ctx.outbox.setPosition(of: destination.rawValue, to: batch.scannedUpTo)
            }
            return nil
        }
        txnCounter += 1
        var body: [String: JSON] = [
            "origin": .string(ctx.us.rawValue),
            "origin_server_ts": .int(nowMillis()),
            "pdus": .array(batch.events.map(\.json)),
        ]
        let allEDUs = durable.map(\.edu) + eduBatch.map(\.edu)
        if !allEDUs.isEmpty { body["edus"] = .array(allEDUs) }
        return OutboundTransaction(id: "\(ctx.startedMs)-\(txnCounter)", body: .object(body), pduCount: batch.events.count,
                                   lastEDU: eduBatch.last?.seq, lastDurableEDU: durable.last?.seq, scannedUpTo: batch.scannedUpTo)
    }

    /// One `PUT /send`. A refusal that no retry can fix (400, 403, 404) gives the
    /// transaction up; anything else but success throws, to be retried.
    private func deliver(_ txn: OutboundTransaction) async throws {
        let uri = FederationPath.target("/_matrix/federation/v1/send", [txn.id])
        let response = try await ctx.federation.send("PUT", to: destination, uri, body: txn.body, timeout: ctx.config.requestTimeout)
        switch response.status {
        case 200..<300:
            Counter(label: "myelin_federation_pdus_sent_total").increment(by: txn.pduCount)
            if let results = response.jsonObject?["pdus"]?.objectValue {
                for (id, r) in results where r["error"] != nil {
                    ctx.logger.info("\(destination.rawValue) refused \(id): \(r["error"]?.stringValue ?? "")")
                }
            }
        case 400, 403, 404:
            ctx.logger.warning("\(destination.rawValue) refused transaction \(txn.id) with \(response.status); skipping it")
        default:
            throw FederationError.http(status: response.status, body: response.jsonObject)
        }
    }

    private func scheduleWake(after delay: Duration) {
        let wakeIn = self.wakeIn
        Task {
            try? await Task.sleep(for: delay)
            wakeIn.yield()
        }
    }
}
