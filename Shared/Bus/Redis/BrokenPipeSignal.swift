#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// hiredis writes with plain write(2); a write to a socket the server closed
/// raises SIGPIPE, whose default action kills the process. Linux has no
/// per-socket opt-out, so ignore it process-wide (as swift-nio does too); on
/// Darwin the socket gets SO_NOSIGPIPE instead.
enum BrokenPipeSignal {
    #if canImport(Glibc)
    private static let ignoredProcessWide: Bool = {
        _ = signal(Glibc.SIGPIPE, SIG_IGN)
        return true
    }()
    #endif

    static func suppress(onSocket fd: Int32) {
        #if canImport(Glibc)
        _ = ignoredProcessWide
        #elseif canImport(Darwin)
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }
}
