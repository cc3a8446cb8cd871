/// An industry classification code of GB/T 4754-2017 (国民经济行业分类): a section letter A–T and
/// a 2-digit division (大类), optionally refined to a 3-digit group (中类) or 4-digit class (小类),
/// e.g. `C30`, `C301`, `C3011`.
///
/// Invariant: the division lies within its section's range (`C` holds 13–43). A lowercase section
/// letter is accepted and normalised. Groups and classes inside a valid division are not checked
/// against the full code list.
public struct IndustryCode: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    /// The divisions of each section.
    public static let divisions: [Character: ClosedRange<Int>] = [
        "A": 1...5, "B": 6...12, "C": 13...43, "D": 44...46, "E": 47...50, "F": 51...52,
        "G": 53...60, "H": 61...62, "I": 63...65, "J": 66...69, "K": 70...70, "L": 71...72,
        "M": 73...75, "N": 76...79, "O": 80...82, "P": 83...83, "Q": 84...85, "R": 86...90,
        "S": 91...96, "T": 97...97,
    ]

    public init(validating text: String) throws(IdentifierError) {
        guard let first = text.first, let upper = first.asciiValue.map(USCC.uppercased),
            let range = IndustryCode.divisions[Character(Unicode.Scalar(upper))]
        else {
            throw IdentifierError(.format, "industry code '\(text)' does not start with a section letter A–T")
        }
        let digits = text.dropFirst()
        guard (2...4).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isWholeNumber }) else {
            throw IdentifierError(.format, "industry code '\(text)' must have 2 to 4 digits after the section letter")
        }
        let section = Character(Unicode.Scalar(upper))
        let division = Int(digits.prefix(2))!
        guard range.contains(division) else {
            let bounds =
                range.count == 1
                ? IndustryCode.two(range.lowerBound)
                : "\(IndustryCode.two(range.lowerBound))–\(IndustryCode.two(range.upperBound))"
            throw IdentifierError(
                .division,
                "industry division \(section)\(digits.prefix(2)) is not in section \(section) (\(bounds))")
        }
        self.value = String(section) + digits
    }

    /// The section letter, e.g. `C`.
    public var section: Character { value.first! }

    /// The section letter and the 2-digit division, e.g. `C30`: the level of industry monitoring.
    public var division: String { String(value.prefix(3)) }

    public var description: String { value }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
}
