#if canImport(Glibc)
import Glibc
#endif

/// Process-wide settings every Myelin executable makes before anything else runs.
public enum ProcessDefaults {
    /// Sets `TZ=GMT` unless the operator set a zone. Nothing here is local time: Matrix
    /// timestamps are epoch milliseconds and HTTP dates are GMT. An unset TZ makes Foundation
    /// look the system zone up in ICU's time-zone tables when the HTTP server formats its
    /// first `Date` header, which keeps about 2 MB more of ICU resident for good.
    public static func apply() {
        if let tz = getenv("TZ"), tz.pointee != 0 { return }
        setenv("TZ", "GMT", 1)
    }
}
