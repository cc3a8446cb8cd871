import RuleLanguage

/// A resident identity card number (居民身份号码, GB 11643-1999): 6-digit address code, 8-digit
/// birth date, 3-digit sequence (odd for men), check character.
///
/// Invariant: `value` has 17 digits, a real birth date in 1800–2099 and a correct check
/// character (`0`–`9` or uppercase `X`; a lowercase `x` is accepted and normalised). The old
/// 15-digit numbers are not accepted.
///
/// An ID number is sensitive personal data: `description` (and so string interpolation) gives
/// the masked form; `value` is for storage and authorised display only.
public struct ResidentID: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [UInt8] = Array("10X98765432".utf8)
    /// Accepted birth years: wide enough for every living person and some record keeping.
    static let birthYears = 1800...2099

    public init(validating text: String) throws(IdentifierError) {
        var bytes = Array(text.utf8)
        guard bytes.count == 18, bytes[0..<17].allSatisfy(ResidentID.isDigit),
            ResidentID.isDigit(bytes[17]) || bytes[17] == UInt8(ascii: "X") || bytes[17] == UInt8(ascii: "x")
        else { throw ResidentID.shapeError(text) }
        if bytes[17] == UInt8(ascii: "x") { bytes[17] = UInt8(ascii: "X") }

        let year = ResidentID.number(bytes[6..<10])
        let month = ResidentID.number(bytes[10..<12])
        let day = ResidentID.number(bytes[12..<14])
        let dateText = String(decoding: bytes[6..<14], as: UTF8.self)
        guard Day(year: year, month: month, day: day) != nil else {
            throw IdentifierError(.birthDate, "ID number birth date \(dateText) is not a real date")
        }
        guard ResidentID.birthYears.contains(year) else {
            throw IdentifierError(
                .birthDate,
                "ID number birth year \(String(decoding: bytes[6..<10], as: UTF8.self)) is outside 1800–2099")
        }
        let expected = ResidentID.checkByte(bytes[0..<17])
        guard bytes[17] == expected else {
            throw IdentifierError(
                .checkCharacter,
                "ID number check character is '\(text.last!)', expected '\(Character(Unicode.Scalar(expected)))'")
        }
        self.value = String(decoding: bytes, as: UTF8.self)
    }

    /// The check character for the first 17 characters of an ID number, or nil when `prefix` is
    /// not exactly 17 digits. (The birth date is not checked here.)
    public static func checkCharacter(forFirst17 prefix: String) -> Character? {
        let bytes = Array(prefix.utf8)
        guard bytes.count == 17, bytes.allSatisfy(isDigit) else { return nil }
        return Character(Unicode.Scalar(checkByte(bytes[...])))
    }

    /// `430602********1234`: the address code, eight asterisks, the last four characters.
    public var masked: String { String(value.prefix(6)) + "********" + String(value.suffix(4)) }

    public var birthDate: Day {
        let bytes = Array(value.utf8)
        return Day(
            year: ResidentID.number(bytes[6..<10]), month: ResidentID.number(bytes[10..<12]),
            day: ResidentID.number(bytes[12..<14]))!
    }

    /// The sequence number (positions 15–17) is odd for men.
    public var isMale: Bool { Array(value.utf8)[16] % 2 == 1 }

    public var description: String { masked }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func number(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    static func checkByte(_ digits: ArraySlice<UInt8>) -> UInt8 {
        var sum = 0
        for (byte, weight) in zip(digits, weights) { sum += Int(byte - 0x30) * weight }
        return checkCharacters[sum % 11]
    }

    /// The error for a text that is not 17 digits and a digit or X (slow path; counts Characters).
    static func shapeError(_ text: String) -> IdentifierError {
        let count = text.count
        guard count == 18 else {
            return IdentifierError(.length, "ID number must have 18 characters, got \(count)")
        }
        for (offset, character) in text.enumerated() {
            if offset < 17, !(character.isASCII && character.isWholeNumber) {
                return IdentifierError(
                    .character, "ID number character '\(character)' at position \(offset + 1) is not a digit")
            }
            if offset == 17, !(character.isASCII && (character.isWholeNumber || character == "X" || character == "x")) {
                return IdentifierError(
                    .character, "ID number character '\(character)' at position 18 is not a digit or X")
            }
        }
        fatalError("shapeError called for a valid ID number shape")
    }
}
