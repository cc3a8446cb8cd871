/// Explanation templates (`"近3个月纳税 {tax_paid_3mo} 元"`) and how values read in them.

struct Template: Hashable, Sendable {
    enum Segment: Hashable, Sendable {
        case text(String)
        case feature(Int, percent: Bool)
        case asOf
        case industry(IndustryBuiltin, percent: Bool)
        case entity(EntityBuiltin)
        /// `{feature:who}`: the related entities that made relation aggregate `aggregate` (feature
        /// `feature`'s value) what it is.
        case who(feature: Int, aggregate: Int)
        /// `{feature:members}`: the enterprises of the division that peer condition `key` holds for.
        case members(String)
    }

    let segments: [Segment]
}

/// A template as parsed, before its placeholders are resolved.
struct TemplatePiece {
    enum Kind {
        case text(String)
        case placeholder(name: String, format: Format)
    }

    enum Format {
        /// `{name}`
        case plain
        /// `{name:%}`: a ratio as a percentage.
        case percent
        /// `{name:who}`: the related entities behind a relation aggregate.
        case who
        /// `{name:members}`: the enterprises behind `share(…)` or `members(…)`.
        case members
    }
    let kind: Kind
    let location: SourceLocation
}

enum TemplateParser {
    /// Splits raw template text (escapes not yet resolved) into text and `{name}` / `{name:%}`
    /// placeholders. `{{` and `}}` are literal braces.
    static func parse(_ t: TemplateSyntax, diagnostics: inout DiagnosticSink) -> [TemplatePiece] {
        var pieces: [TemplatePiece] = []
        var text = ""
        var textStart = t.start
        let raw = t.raw
        var k = 0
        func at(_ index: Int) -> SourceLocation {
            SourceLocation(path: t.start.path, line: t.start.line, column: t.start.column + index)
        }
        func flush(_ next: Int) {
            if !text.isEmpty { pieces.append(TemplatePiece(kind: .text(text), location: textStart)) }
            text = ""
            textStart = at(next)
        }
        while k < raw.count {
            let c = raw[k]
            if c == "\\", k + 1 < raw.count {
                switch raw[k + 1] {
                case "n": text.append("\n")
                case "t": text.append("\t")
                default: text.append(raw[k + 1])
                }
                k += 2
            } else if c == "{", k + 1 < raw.count, raw[k + 1] == "{" {
                text.append("{")
                k += 2
            } else if c == "}", k + 1 < raw.count, raw[k + 1] == "}" {
                text.append("}")
                k += 2
            } else if c == "}" {
                diagnostics.error(at(k), "unmatched '}' in explanation; write '}}' for a literal brace")
                k += 1
            } else if c == "{" {
                guard let close = raw[k...].firstIndex(of: "}") else {
                    diagnostics.error(at(k), "unclosed '{' in explanation")
                    return pieces
                }
                flush(k)
                let inner = String(raw[(k + 1)..<close])
                var name = inner
                var format = TemplatePiece.Format.plain
                if let colon = inner.firstIndex(of: ":") {
                    name = String(inner[..<colon])
                    switch inner[inner.index(after: colon)...] {
                    case "%": format = .percent
                    case "who": format = .who
                    case "members": format = .members
                    case let other:
                        diagnostics.error(
                            at(k), "unknown format ':\(other)' in '{\(inner)}'; use {name}, {name:%}, {name:who} or {name:members}")
                    }
                }
                pieces.append(TemplatePiece(kind: .placeholder(name: name, format: format), location: at(k)))
                k = close + 1
                textStart = at(k)
            } else {
                text.append(c)
                k += 1
            }
        }
        flush(k)
        return pieces
    }
}

extension Value {
    /// How a value reads in an explanation: numbers with at most two decimals and no exponent
    /// (`120000`, `1234.5`, `12345.67`), dates `YYYY-MM-DD`, timestamps as their China Standard
    /// Time date, booleans 是/否, unknown (`.null`) 未知.
    public var displayText: String {
        switch self {
        case .null: return "未知"
        case .bool(let b): return b ? "是" : "否"
        case .number(let n): return Value.numberText(n)
        case .string(let s): return s
        case .date(let d): return d.description
        case .timestamp(let ms): return Day(epochMilliseconds: ms).description
        }
    }

    /// A number rounded to two decimals with trailing zeros removed, never in exponent form.
    public static func numberText(_ x: Double) -> String {
        guard x.isFinite else { return "未知" }
        let hundredths = (x * 100).rounded()
        guard abs(hundredths) < 9.0e15 else {
            // Beyond 2^53 cents there are no decimals left to show.
            let whole = x.rounded()
            if abs(whole) < 9.2e18 { return String(Int64(whole)) }
            return whole < 0 ? "-" + integerDigits(-whole) : integerDigits(whole)
        }
        let n = Int64(hundredths)
        let magnitude = n.magnitude
        var s = n < 0 ? "-" : ""
        s += String(magnitude / 100)
        let cents = magnitude % 100
        if cents != 0 {
            s += "."
            if cents % 10 == 0 {
                s += String(cents / 10)
            } else {
                s += cents < 10 ? "0" + String(cents) : String(cents)
            }
        }
        return s
    }

    /// Digits of a huge whole number (beyond Int64), exact as far as Double is.
    private static func integerDigits(_ x: Double) -> String {
        var digits: [Character] = []
        var v = x
        while v >= 1 && digits.count < 400 {
            let q = (v / 10).rounded(.down)
            let d = Int(v - q * 10)
            digits.append(Character(String(max(0, min(9, d)))))
            v = q
        }
        return digits.isEmpty ? "0" : String(digits.reversed())
    }
}

extension Day {
    /// The calendar day of an epoch-millisecond timestamp in a fixed UTC offset (default China
    /// Standard Time, UTC+8: the feeds' business dates are local dates). Never traps.
    public init(epochMilliseconds ms: Int64, utcOffsetSeconds: Int = 8 * 3600) {
        let (shifted, overflow) = ms.addingReportingOverflow(Int64(utcOffsetSeconds) * 1000)
        let v = overflow ? ms : shifted
        let dayMs: Int64 = 86_400_000
        var days = v / dayMs
        if v % dayMs < 0 { days -= 1 }
        self.init(Int(days))
    }
}
