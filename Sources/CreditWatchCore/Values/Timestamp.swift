import RuleLanguage

/// Epoch-millisecond timestamps (`Value.timestamp`) as ISO-8601 text: the one parser (feed fields,
/// stored JSON) and the one renderer (stored JSON, API responses, simulated feeds).
///
/// Calendar days of timestamps are not computed here: they are `Day(epochMilliseconds:utcOffsetSeconds:)`.
public enum Timestamp {
    /// Epoch milliseconds of ISO-8601 text `YYYY-MM-DD[T|t| ]HH:MM:SS[.fraction][Z|z|±HH:MM|±HHMM|±HH]`,
    /// or nil for any other shape or a date or time that does not exist. The fraction has 1–9
    /// digits and is truncated to milliseconds; offsets are at most 18 hours.
    ///
    /// Text without an offset is taken at `defaultUTCOffsetSeconds` east of UTC; when that is nil
    /// (the default), an offset is required and text without one is nil.
    public static func milliseconds(iso8601 text: String, defaultUTCOffsetSeconds: Int? = nil) -> Int64? {
        let b = Array(text.utf8)
        let n = b.count
        guard n >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(b[0..<4]), let month = number(b[5..<7]), let dayOfMonth = number(b[8..<10]),
            let hour = number(b[11..<13]), let minute = number(b[14..<16]), let second = number(b[17..<19]),
            hour < 24, minute < 60, second < 60,
            let day = Day(year: year, month: month, day: dayOfMonth)
        else { return nil }

        var i = 19
        var millis = 0
        if i < n, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < n, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            let digits = i - start
            guard (1...9).contains(digits) else { return nil }
            for k in 0..<3 { millis = millis * 10 + (start + k < i ? Int(b[start + k] - 0x30) : 0) }
        }

        let offset: Int
        if i < n {
            switch b[i] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                guard i + 1 == n else { return nil }
                offset = 0
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                let rest = b[(i + 1)...]
                let hours: Int?
                let minutes: Int?
                switch rest.count {
                case 2: (hours, minutes) = (number(rest), 0)
                case 4: (hours, minutes) = (number(rest.prefix(2)), number(rest.suffix(2)))
                case 5 where rest[rest.startIndex + 2] == UInt8(ascii: ":"):
                    (hours, minutes) = (number(rest.prefix(2)), number(rest.suffix(2)))
                default: return nil
                }
                guard let hours, let minutes, hours <= 18, minutes < 60 else { return nil }
                offset = sign * (hours * 3600 + minutes * 60)
            default:
                return nil
            }
        } else {
            guard let defaultUTCOffsetSeconds else { return nil }
            offset = defaultUTCOffsetSeconds
        }
        let seconds = Int64(day.value) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return seconds * 1000 + Int64(millis)
    }

    /// ISO-8601 text of epoch milliseconds: `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC, or the local time
    /// `utcOffsetSeconds` east of UTC followed by `±HH:MM` (`2025-05-31T18:15:00.999+08:00`).
    /// Without `fractionalSeconds` the milliseconds are dropped (`2025-05-31T10:15:00Z`).
    public static func iso8601(milliseconds ms: Int64, utcOffsetSeconds: Int = 0, fractionalSeconds: Bool = true)
        -> String
    {
        let local = ms + Int64(utcOffsetSeconds) * 1000
        let day = Day(epochMilliseconds: local, utcOffsetSeconds: 0)
        let inDay = Int(local - Int64(day.value) * 86_400_000)
        var time: [UInt8] = []
        time.reserveCapacity(16)
        time.append(UInt8(ascii: "T"))
        append(inDay / 3_600_000, width: 2, to: &time)
        time.append(UInt8(ascii: ":"))
        append(inDay / 60_000 % 60, width: 2, to: &time)
        time.append(UInt8(ascii: ":"))
        append(inDay / 1000 % 60, width: 2, to: &time)
        if fractionalSeconds {
            time.append(UInt8(ascii: "."))
            append(inDay % 1000, width: 3, to: &time)
        }
        if utcOffsetSeconds == 0 {
            time.append(UInt8(ascii: "Z"))
        } else {
            time.append(utcOffsetSeconds > 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
            append(abs(utcOffsetSeconds) / 3600, width: 2, to: &time)
            time.append(UInt8(ascii: ":"))
            append(abs(utcOffsetSeconds) / 60 % 60, width: 2, to: &time)
        }
        return day.description + String(decoding: time, as: UTF8.self)
    }

    /// The decimal digits of `n >= 0`, zero-padded to `width`.
    private static func append(_ n: Int, width: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor <= n / 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: n / divisor % 10) &+ 0x30)
            divisor /= 10
        }
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}
