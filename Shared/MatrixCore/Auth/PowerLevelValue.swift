import Foundation

/// How one power level value is read in each room version: integers always; floats
/// (truncated) before version 6, when canonical JSON was not enforced; numeric strings
/// before version 10.
enum PowerLevelValue {
    static func parse(_ value: JSON, roomVersion: RoomVersion) -> Int64? {
        switch value {
        case .int(let i):
            return i
        case .double(let d) where !roomVersion.strictCanonicalJSON:
            // Exponents are already applied by the parser; truncate at the decimal point.
            guard d.isFinite, d > -9.2e18, d < 9.2e18 else { return nil }
            return Int64(d.rounded(.towardZero))
        case .string(let s) where !roomVersion.integerPowerLevels:
            return parseString(s)
        default:
            return nil
        }
    }

    /// Base-10 digits with one optional sign, surrounded by any whitespace.
    static func parseString(_ s: String) -> Int64? {
        var t = Substring(s.trimmingCharacters(in: .whitespacesAndNewlines))
        var negative = false
        if let first = t.first, first == "+" || first == "-" {
            negative = first == "-"
            t = t.dropFirst()
        }
        guard !t.isEmpty, t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        // Leading zeroes are allowed; strip them so long zero runs don't overflow.
        let digits = t.drop { $0 == "0" }
        guard let magnitude = digits.isEmpty ? 0 : Int64(digits) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Reads an object of power levels (`users`, `events`, `notifications`), skipping
    /// values that are not valid levels in this room version.
    static func parseMap(_ value: JSON?, roomVersion: RoomVersion) -> [String: Int64] {
        guard let object = value?.objectValue else { return [:] }
        var out: [String: Int64] = [:]
        for (key, v) in object {
            if let level = parse(v, roomVersion: roomVersion) { out[key] = level }
        }
        return out
    }
}
