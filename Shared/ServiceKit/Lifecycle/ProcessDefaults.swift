#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Process-wide settings every Myelin executable makes before anything else runs.
public enum ProcessDefaults {
    /// Sets `TZ=GMT` unless the operator set a zone. Nothing here is local time: Matrix
    /// timestamps are epoch milliseconds and HTTP dates are GMT. An unset TZ makes Foundation
    /// look the system zone up in ICU's time-zone tables when the HTTP server formats its
    /// first `Date` header, which keeps about 2 MB more of ICU resident for good.
    ///
    /// Tasks run on the NIO event loops instead of a pool of their own: a request's handler,
    /// its Postgres queries and its response then stay on one thread instead of hopping
    /// between the two pools on every await of I/O. Nothing may block a task anyway (blocking
    /// Redis reads and bcrypt have threads of their own).
    public static func apply() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        if let tz = getenv("TZ"), tz.pointee != 0 { return }
        setenv("TZ", "GMT", 1)
    }
}
