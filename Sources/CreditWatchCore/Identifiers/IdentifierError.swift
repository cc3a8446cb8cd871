/// Why a text is not a valid identifier (USCC, resident ID number, industry code).
///
/// `reason` is precise, stable and safe to show: it is stored with quarantined messages and
/// compared by tests. It names the offending character, position or value but never repeats a
/// whole ID number. `code` is the low-cardinality class of the problem, for metrics.
public struct IdentifierError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The text has the wrong number of characters.
        case length
        /// A character is outside the identifier's alphabet.
        case character
        /// The check character does not match the first 17 characters.
        case checkCharacter = "check_character"
        /// The birth date of an ID number is not a real date or out of range.
        case birthDate = "birth_date"
        /// The shape of an industry code is wrong (section letter, digit count).
        case format
        /// An industry division is outside its section's range.
        case division
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
