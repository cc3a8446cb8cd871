/// A lexical token of the rule language.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        /// A number literal; `percent` when written with `%` (the value is already divided by 100).
        case number(Double, percent: Bool)
        /// A number directly followed by letters, e.g. `90d`, `3mo` (validated by the parser).
        case duration(String)
        /// A string literal: its value with escapes resolved, and the raw characters between the
        /// quotes (explanation templates are parsed from the raw text to report exact columns).
        case string(String, raw: [Character])
        case symbol(String)
        case end
    }

    let kind: Kind
    let location: SourceLocation
    /// The token as written (used for content hashes that ignore layout and comments).
    let text: String
    /// First token on its line: the parser resynchronises on declaration keywords that start a line.
    let startsLine: Bool

    var identifier: String? {
        if case .identifier(let s) = kind { return s }
        return nil
    }

    func isSymbol(_ s: String) -> Bool {
        if case .symbol(let t) = kind { return t == s }
        return false
    }

    func isWord(_ s: String) -> Bool { identifier == s }

    var isEnd: Bool { kind == .end }

    /// How the token reads in a diagnostic ("unexpected 'x'").
    var display: String {
        switch kind {
        case .end: return "end of file"
        case .string: return "string \(text)"
        default: return "'\(text)'"
        }
    }
}

/// Turns source text into tokens. Never fails: bad input becomes a diagnostic and lexing goes on.
/// Positions count `Character`s; the hot paths test a parallel array of ASCII bytes (non-ASCII
/// characters are 0xFF there) because `Character` property checks are slow.
struct Lexer {
    private let chars: [Character]
    private let bytes: [UInt8]
    private let path: String
    private var i = 0
    private var line = 1
    private var column = 1
    private var lineHasToken = false
    private(set) var tokens: [Token] = []
    private(set) var diagnostics: [Diagnostic] = []

    private static let nonASCII: UInt8 = 0xFF
    static let symbols2: Set<String> = ["==", "!=", "<=", ">="]
    static let symbols1: Set<UInt8> = Set("()[]{},.#=;+-*/<>|".utf8)

    init(_ file: SourceFile) {
        self.chars = Array(file.text)
        // `"\r\n"` is one Character whose asciiValue is 10; other Unicode newlines and spaces (e.g.
        // the full-width space U+3000) are classified once here.
        self.bytes = chars.map { c in
            if let a = c.asciiValue { return a }
            return c.isNewline ? 10 : (c.isWhitespace ? 32 : Lexer.nonASCII)
        }
        self.path = file.path
    }

    static func tokenize(_ file: SourceFile) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        var lexer = Lexer(file)
        lexer.run()
        return (lexer.tokens, lexer.diagnostics)
    }

    private var here: SourceLocation { SourceLocation(path: path, line: line, column: column) }

    private func byte(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

    private func isNewline(_ k: Int) -> Bool {
        let b = bytes[k]
        return b >= 10 && b <= 13
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    private mutating func advance() {
        if isNewline(i) {
            line += 1
            column = 1
            lineHasToken = false
        } else {
            column += 1
        }
        i += 1
    }

    private mutating func emit(_ kind: Token.Kind, _ at: SourceLocation, _ text: String) {
        tokens.append(Token(kind: kind, location: at, text: text, startsLine: !lineHasToken))
        lineHasToken = true
    }

    private mutating func error(_ at: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(at, message))
    }

    private func text(_ from: Int) -> String { String(chars[from..<i]) }

    /// Text of an all-ASCII token (identifiers, numbers, symbols): built from bytes, which is cheap.
    private func asciiText(_ from: Int) -> String { String(decoding: bytes[from..<i], as: UTF8.self) }

    mutating func run() {
        while let b = byte() {
            if b == 32 || b == 9 || isNewline(i) {
                advance()
            } else if b == UInt8(ascii: "/"), byte(1) == UInt8(ascii: "/") {
                while i < bytes.count, !isNewline(i) { advance() }
            } else if Lexer.isLetter(b) || b == UInt8(ascii: "_") {
                lexIdentifier()
            } else if Lexer.isDigit(b) {
                lexNumber()
            } else if b == UInt8(ascii: "\"") {
                lexString()
            } else if let b2 = byte(1), b2 == UInt8(ascii: "="), b == UInt8(ascii: "=") || b == UInt8(ascii: "!") || b == UInt8(ascii: "<") || b == UInt8(ascii: ">") {
                let at = here
                let start = i
                advance()
                advance()
                let t = asciiText(start)
                emit(.symbol(t), at, t)
            } else if Lexer.symbols1.contains(b) {
                let at = here
                let start = i
                advance()
                let t = asciiText(start)
                emit(.symbol(t), at, t)
            } else if b == Lexer.nonASCII, chars[i].isLetter {
                // A run of non-ASCII letters (a Chinese name outside quotes) is one diagnostic.
                let at = here
                let start = i
                while i < bytes.count,
                    chars[i].isLetter || (i > start && (chars[i].isNumber || bytes[i] == UInt8(ascii: "_")))
                {
                    advance()
                }
                error(at, "unexpected '\(text(start))'; names use ASCII letters, digits and '_', and text goes in quotes \"...\"")
            } else {
                let at = here
                let c = chars[i]
                advance()
                if c == "\u{201C}" || c == "\u{201D}" {
                    error(at, "unexpected character '\(c)'; strings are quoted with straight quotes \"...\"")
                } else {
                    error(at, "unexpected character '\(c)'")
                }
            }
        }
        emit(.end, here, "")
    }

    private mutating func lexIdentifier() {
        let at = here
        let start = i
        while let b = byte(), Lexer.isLetter(b) || Lexer.isDigit(b) || b == UInt8(ascii: "_") { advance() }
        let s = asciiText(start)
        emit(.identifier(s), at, s)
    }

    private mutating func lexNumber() {
        let at = here
        let start = i
        while let b = byte(), Lexer.isDigit(b) || b == UInt8(ascii: "_") { advance() }
        if byte() == UInt8(ascii: "."), let d = byte(1), Lexer.isDigit(d) {
            advance()
            while let b = byte(), Lexer.isDigit(b) || b == UInt8(ascii: "_") { advance() }
        }
        if let b = byte(), Lexer.isLetter(b) {
            while let b = byte(), Lexer.isLetter(b) || Lexer.isDigit(b) || b == UInt8(ascii: "_") { advance() }
            let t = asciiText(start)
            emit(.duration(t), at, t)
            return
        }
        let digits = String(asciiText(start).filter { $0 != "_" })
        var percent = false
        if byte() == UInt8(ascii: "%") {
            percent = true
            advance()
        }
        let t = asciiText(start)
        if t.contains("__") || t.hasSuffix("_") || t.hasSuffix("_%") || t.contains("_.") || t.contains("._") {
            error(at, "bad number '\(t)'; '_' may only separate digits, as in 100_000")
        }
        let value = Lexer.parseDecimal(digits) ?? 0
        emit(.number(percent ? value / 100 : value, percent: percent), at, t)
    }

    /// Parses `123` or `123.45` (the standard library's parser: correctly rounded, no Foundation).
    static func parseDecimal(_ s: String) -> Double? { Double(s) }

    private mutating func lexString() {
        let at = here
        let start = i
        advance()  // opening quote
        var value = ""
        var raw: [Character] = []
        while true {
            guard i < bytes.count, !isNewline(i) else {
                error(at, "unterminated string; close it with \" on the same line")
                break
            }
            let c = chars[i]
            let b = bytes[i]
            advance()
            if b == UInt8(ascii: "\"") { break }
            raw.append(c)
            if b == UInt8(ascii: "\\") {
                let escAt = SourceLocation(path: path, line: line, column: column - 1)
                guard i < bytes.count, !isNewline(i) else { continue }
                let e = chars[i]
                advance()
                raw.append(e)
                switch e {
                case "\"": value.append("\"")
                case "\\": value.append("\\")
                case "n": value.append("\n")
                case "t": value.append("\t")
                default: error(escAt, "unknown escape '\\\(e)'; use \\\" \\\\ \\n or \\t")
                }
            } else {
                value.append(c)
            }
        }
        emit(.string(value, raw: raw), at, text(start))
    }
}
