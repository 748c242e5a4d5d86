import Foundation
import MatrixCore

/// The rules for `/.well-known/matrix/server` answers (spec "Resolving server names", step 3).
enum WellKnown {
    static let defaultCacheMs: Int64 = 24 * 3_600_000
    static let maxCacheMs: Int64 = 48 * 3_600_000
    /// Invalid answers (not 200, not JSON, no usable `m.server`) are remembered this long.
    static let invalidCacheMs: Int64 = 3_600_000
    /// Unreachable hosts: one minute, doubling per failure, at most an hour.
    static let unreachableFirstMs: Int64 = 60_000
    static let largestBody = 50 * 1024

    /// The delegated server name in a 200 answer; nil when the answer is unusable.
    static func delegatedName(status: Int, body: [UInt8]) -> ServerName? {
        guard status == 200, let json = try? JSON.parse(body), let s = json["m.server"]?.stringValue else { return nil }
        return ServerName(s)
    }

    /// How long a successful answer may be used, from its `Cache-Control` header:
    /// `max-age` (capped at 48 hours), nothing for `no-store`/`no-cache`, 24 hours otherwise.
    static func cacheMs(cacheControl: String?) -> Int64 {
        guard let cacheControl else { return defaultCacheMs }
        var maxAge: Int64?
        for directive in cacheControl.lowercased().split(separator: ",") {
            let d = directive.trimmingCharacters(in: .whitespaces)
            if d == "no-store" || d == "no-cache" { return 0 }
            if d.hasPrefix("max-age="), let secs = Int64(d.dropFirst("max-age=".count).trimmingCharacters(in: .init(charactersIn: "\""))) {
                maxAge = max(0, secs) * 1000
            }
        }
        return min(maxAge ?? defaultCacheMs, maxCacheMs)
    }

    static func unreachableCacheMs(failures: Int) -> Int64 {
        min(unreachableFirstMs << Int64(min(max(failures - 1, 0), 10)), invalidCacheMs)
    }
}
