/// Whether a party is an enterprise (or other organisation) or a natural person.
public enum PartyKind: String, Hashable, Sendable {
    case enterprise, person
}

/// The identifier of a party in a field that may hold either kind, such as the `owner_id` of
/// real-estate rights and vehicles.
public enum PartyIdentifier: Hashable, Sendable {
    case enterprise(USCC)
    case person(ResidentID)

    public var kind: PartyKind {
        switch self {
        case .enterprise: .enterprise
        case .person: .person
        }
    }

    /// Classifies `text` by shape and check character.
    ///
    /// A text that is valid as exactly one kind is that kind. A rare text can be valid as both (a
    /// USCC whose first 17 characters are digits, whose positions 7–14 form a date and whose
    /// check character happens to match GB 11643 as well); then `hint` decides, and without a hint
    /// the USCC wins when it starts with `9` (the market-registration authority, i.e. an
    /// enterprise), else the ID number.
    ///
    /// Errors: `USCC or ID number must have 18 characters, got N`; for a text whose first 17
    /// characters are digits, `neither a valid USCC (…) nor a valid ID number (…)`; otherwise the
    /// USCC's own reason.
    public static func classify(_ text: String, hint: PartyKind? = nil) throws(IdentifierError) -> PartyIdentifier {
        let usccResult = Result { () throws(IdentifierError) in try USCC(validating: text) }
        let personResult = Result { () throws(IdentifierError) in try ResidentID(validating: text) }
        switch (usccResult, personResult) {
        case (.success(let uscc), .failure):
            return .enterprise(uscc)
        case (.failure, .success(let id)):
            return .person(id)
        case (.success(let uscc), .success(let id)):
            switch hint {
            case .enterprise: return .enterprise(uscc)
            case .person: return .person(id)
            case nil: return text.hasPrefix("9") ? .enterprise(uscc) : .person(id)
            }
        case (.failure(let usccError), .failure(let idError)):
            if usccError.code == .length {
                throw IdentifierError(.length, "USCC or ID number must have 18 characters, got \(text.count)")
            }
            if text.prefix(17).allSatisfy({ $0.isASCII && $0.isWholeNumber }) {
                throw IdentifierError(
                    usccError.code,
                    "neither a valid USCC (\(usccError.reason)) nor a valid ID number (\(idError.reason))")
            }
            throw usccError
        }
    }

    /// The identifier text (USCC or ID number, unmasked).
    public var value: String {
        switch self {
        case .enterprise(let uscc): uscc.value
        case .person(let id): id.value
        }
    }
}
