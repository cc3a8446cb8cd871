/// A unified social credit code (统一社会信用代码, GB 32100-2015): the 18-character registration
/// key of an enterprise or other organisation.
///
/// Invariant: `value` has 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY` and a correct check
/// character. Lowercase letters are accepted and normalised to uppercase (the alphabet has no
/// lowercase, so this is lossless); surrounding whitespace is not trimmed.
public struct USCC: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    /// The code alphabet; a character's value is its index.
    public static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// Value of each ASCII byte in the alphabet (lowercase letters map like uppercase), or -1.
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in alphabet.enumerated() {
            let byte = character.asciiValue!
            table[Int(byte)] = Int8(index)
            if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { table[Int(byte + 32)] = Int8(index) }
        }
        return table
    }()

    public init(validating text: String) throws(IdentifierError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 18, let digits = USCC.alphabetValues(bytes) else {
            throw USCC.shapeError(text)
        }
        let expected = USCC.checkValue(digits[0..<17])
        guard digits[17] == expected else {
            throw IdentifierError(
                .checkCharacter,
                "USCC check character is '\(text.last!)', expected '\(USCC.alphabet[expected])'")
        }
        self.value = String(decoding: bytes.map(USCC.uppercased), as: UTF8.self)
    }

    /// The check character for the first 17 characters of a USCC, or nil when `prefix` does not
    /// have exactly 17 characters of the alphabet.
    public static func checkCharacter(forFirst17 prefix: String) -> Character? {
        let bytes = Array(prefix.utf8)
        guard bytes.count == 17, let digits = alphabetValues(bytes) else { return nil }
        return alphabet[checkValue(digits[...])]
    }

    /// Positions 3–8: the administrative division code (GB/T 2260) of the registering authority.
    public var administrativeDivision: String { String(value.dropFirst(2).prefix(6)) }

    public var description: String { value }

    static func alphabetValues(_ bytes: [UInt8]) -> [Int]? {
        var digits: [Int] = []
        digits.reserveCapacity(bytes.count)
        for byte in bytes {
            guard byte < 128 else { return nil }
            let v = values[Int(byte)]
            guard v >= 0 else { return nil }
            digits.append(Int(v))
        }
        return digits
    }

    static func checkValue(_ digits: ArraySlice<Int>) -> Int {
        var sum = 0
        for (digit, weight) in zip(digits, weights) { sum += digit * weight }
        let check = 31 - sum % 31
        return check == 31 ? 0 : check
    }

    static func uppercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
    }

    /// The error for a text that is not 18 alphabet characters (slow path; counts Characters).
    static func shapeError(_ text: String) -> IdentifierError {
        let count = text.count
        guard count == 18 else {
            return IdentifierError(.length, "USCC must have 18 characters, got \(count)")
        }
        for (offset, character) in text.enumerated() {
            let valid = character.asciiValue.map { values[Int($0)] >= 0 } ?? false
            if !valid {
                return IdentifierError(
                    .character,
                    "USCC character '\(character)' at position \(offset + 1) is not in the GB 32100 alphabet")
            }
        }
        fatalError("shapeError called for a valid USCC shape")
    }
}
