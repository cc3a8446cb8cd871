/// Personal data as the platform shows it to those without an explicit right to see it
/// (DOMAIN.md, "Privacy and compliance"; JR/T 0171-2020's common masking).
public enum PersonalData: String, Sendable, Hashable, CaseIterable {
    /// A resident ID number: first 3 and last 4 shown (`430***********1234`).
    case idNumber = "id_number"
    /// A person's name: the first character, then `*` (`张*`).
    case name
    /// A phone number: first 3 and last 4 shown (`138****5678`).
    case phone

    /// `text` masked; a text too short to keep anything of is all `*`.
    public func mask(_ text: String) -> String {
        let characters = Array(text)
        switch self {
        case .idNumber, .phone:
            guard characters.count > 7 else { return String(repeating: "*", count: characters.count) }
            return String(characters.prefix(3)) + String(repeating: "*", count: characters.count - 7) + String(characters.suffix(4))
        case .name:
            guard let first = characters.first else { return "" }
            return String(first) + "*"
        }
    }
}
