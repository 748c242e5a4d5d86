#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif
import Foundation
import NIOPosix

/// SRV lookups with one UDP query to the system's nameservers (`/etc/resolv.conf`).
/// The socket calls block, so they run on a small thread pool of their own, never on
/// Swift's cooperative pool.
public final class SRVResolver: Sendable {
    public struct Nameserver: Sendable, Equatable {
        public let host: String
        public let port: UInt16
        public init(host: String, port: UInt16 = 53) {
            self.host = host
            self.port = port
        }
    }

    private let nameservers: [Nameserver]
    private let timeoutMs: Int
    private let pool: NIOThreadPool

    /// `nameservers` nil: the IPv4 nameservers of `/etc/resolv.conf`.
    public init(nameservers: [Nameserver]? = nil, timeoutMs: Int = 2000) {
        self.nameservers = nameservers ?? Self.systemNameservers()
        self.timeoutMs = timeoutMs
        self.pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    static func systemNameservers(path: String = "/etc/resolv.conf") -> [Nameserver] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 2, f[0] == "nameserver" else { return nil }
            var a = in_addr()
            guard inet_pton(AF_INET, String(f[1]), &a) == 1 else { return nil }
            return Nameserver(host: String(f[1]))
        }
    }

    /// The records for `name` in RFC 2782 order; empty when there are none or no
    /// nameserver answered.
    public func lookup(_ name: String) async -> [SRVRecord] {
        for ns in nameservers {
            let timeout = timeoutMs
            let answer = try? await pool.runIfActive { Self.ask(ns, name: name, timeoutMs: timeout) }
            switch answer {
            case .records(let r)?: return DNSMessage.ordered(r)
            case .noRecords?: return []
            case nil: continue
            }
        }
        return []
    }

    /// One query over UDP; nil when the server did not answer usefully.
    private static func ask(_ ns: Nameserver, name: String, timeoutMs: Int) -> DNSMessage.Answer? {
        let id = UInt16.random(in: 0...UInt16.max)
        guard let query = DNSMessage.query(id: id, name: name) else { return nil }
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = ns.port.bigEndian
        guard inet_pton(AF_INET, ns.host, &addr.sin_addr) == 1 else { return nil }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        guard query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else { return nil }
        var buf = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        // Datagrams with another ID (late answers, spoofing attempts) are skipped.
        while ContinuousClock.now < deadline {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            do {
                return try DNSMessage.parse(Array(buf[0..<n]), id: id)
            } catch .wrongID {
                continue
            } catch {
                return nil
            }
        }
        return nil
    }
}
