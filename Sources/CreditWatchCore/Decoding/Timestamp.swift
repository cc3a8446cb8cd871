import RuleLanguage

extension ChangeDecoder {
    /// Epoch milliseconds of ISO-8601 text `YYYY-MM-DD[T| ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM|±HH]`,
    /// or nil. Text without an offset is taken at `defaultOffsetSeconds` east of UTC.
    static func epochMilliseconds(iso text: String, defaultOffsetSeconds: Int) -> Int64? {
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

        var offset = defaultOffsetSeconds
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
        }
        let seconds = Int64(day.value) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return seconds * 1000 + Int64(millis)
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
