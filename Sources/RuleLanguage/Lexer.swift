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
struct Lexer {
    private let chars: [Character]
    private let path: String
    private var i = 0
    private var line = 1
    private var column = 1
    private var lineHasToken = false
    private(set) var tokens: [Token] = []
    private(set) var diagnostics: [Diagnostic] = []

    static let symbols2: Set<String> = ["==", "!=", "<=", ">="]
    static let symbols1: Set<Character> = ["(", ")", "[", "]", "{", "}", ",", ".", "#", "=", ";", "+", "-", "*", "/", "<", ">"]

    init(_ file: SourceFile) {
        self.chars = Array(file.text)
        self.path = file.path
    }

    static func tokenize(_ file: SourceFile) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        var lexer = Lexer(file)
        lexer.run()
        return (lexer.tokens, lexer.diagnostics)
    }

    private var here: SourceLocation { SourceLocation(path: path, line: line, column: column) }

    private func peek(_ k: Int = 0) -> Character? { i + k < chars.count ? chars[i + k] : nil }

    private mutating func advance() {
        let c = chars[i]
        i += 1
        if c.isNewline {
            line += 1
            column = 1
            lineHasToken = false
        } else {
            column += 1
        }
    }

    private mutating func emit(_ kind: Token.Kind, _ at: SourceLocation, _ text: String) {
        tokens.append(Token(kind: kind, location: at, text: text, startsLine: !lineHasToken))
        lineHasToken = true
    }

    private mutating func error(_ at: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(at, message))
    }

    mutating func run() {
        while let c = peek() {
            if c.isNewline || c == " " || c == "\t" || c.isWhitespace {
                advance()
            } else if c == "/", peek(1) == "/" {
                while let d = peek(), !d.isNewline { advance() }
            } else if c.isASCII, c.isLetter || c == "_" {
                lexIdentifier()
            } else if c.isASCII, c.isNumber {
                lexNumber()
            } else if c == "\"" {
                lexString()
            } else if let d = peek(1), Lexer.symbols2.contains(String(c) + String(d)) {
                let at = here
                advance()
                advance()
                emit(.symbol(String(c) + String(d)), at, String(c) + String(d))
            } else if Lexer.symbols1.contains(c) {
                let at = here
                advance()
                emit(.symbol(String(c)), at, String(c))
            } else if c.isLetter {
                // A run of non-ASCII letters (a Chinese name outside quotes) is one diagnostic.
                let at = here
                var word = ""
                while let d = peek(), d.isLetter || (d.isNumber && !word.isEmpty) || d == "_" {
                    word.append(d)
                    advance()
                }
                error(at, "unexpected '\(word)'; names use ASCII letters, digits and '_', and text goes in quotes \"...\"")
            } else {
                let at = here
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
        var s = ""
        while let c = peek(), c.isASCII, c.isLetter || c.isNumber || c == "_" {
            s.append(c)
            advance()
        }
        emit(.identifier(s), at, s)
    }

    private mutating func lexNumber() {
        let at = here
        var text = ""
        var digits = ""
        while let c = peek(), c.isASCII, c.isNumber || c == "_" {
            text.append(c)
            if c != "_" { digits.append(c) }
            advance()
        }
        if peek() == ".", let d = peek(1), d.isASCII, d.isNumber {
            text.append(".")
            digits.append(".")
            advance()
            while let c = peek(), c.isASCII, c.isNumber || c == "_" {
                text.append(c)
                if c != "_" { digits.append(c) }
                advance()
            }
        }
        if let c = peek(), c.isASCII, c.isLetter {
            while let c = peek(), c.isASCII, c.isLetter || c.isNumber || c == "_" {
                text.append(c)
                advance()
            }
            emit(.duration(text), at, text)
            return
        }
        var percent = false
        if peek() == "%" {
            text.append("%")
            percent = true
            advance()
        }
        if text.contains("__") || text.hasSuffix("_") || text.hasSuffix("_%") || text.contains("_.") || text.contains("._") {
            error(at, "bad number '\(text)'; '_' may only separate digits, as in 100_000")
        }
        let value = Lexer.parseDecimal(digits) ?? 0
        emit(.number(percent ? value / 100 : value, percent: percent), at, text)
    }

    /// Parses `123` or `123.45` (the standard library's parser: correctly rounded, no Foundation).
    static func parseDecimal(_ s: String) -> Double? { Double(s) }

    private mutating func lexString() {
        let at = here
        advance()  // opening quote
        var value = ""
        var raw: [Character] = []
        var text = "\""
        while true {
            guard let c = peek(), !c.isNewline else {
                error(at, "unterminated string; close it with \" on the same line")
                break
            }
            advance()
            text.append(c)
            if c == "\"" { break }
            raw.append(c)
            if c == "\\" {
                let escAt = SourceLocation(path: path, line: line, column: column - 1)
                guard let e = peek(), !e.isNewline else { continue }
                advance()
                text.append(e)
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
        emit(.string(value, raw: raw), at, text)
    }
}
