/// Whose records a caller may read, resolved from the caller's organisation. Every read-model call
/// takes one, so no route reads without it; a subject outside it answers exactly as one that does
/// not exist.
public enum Scope: Sendable, Hashable {
    /// The whole city: the financial office.
    case city
    /// The enterprises registered in one district (a 6-digit administrative division code).
    case district(String)
    /// These enterprises (and persons) only: a bank's portfolio, an enterprise itself.
    case subjects(Set<String>)

    /// Whether a subject registered in `district` (nil: unknown) is in the scope.
    public func admits(_ subject: String, district: String?) -> Bool {
        switch self {
        case .city: true
        case .district(let code): district == code
        case .subjects(let subjects): subjects.contains(subject)
        }
    }

    /// The subjects a query is limited to; nil: no limit by subject.
    public var subjectIDs: Set<String>? {
        if case .subjects(let subjects) = self { return subjects }
        return nil
    }

    /// `city`, `district` or `subjects`, as the API names it.
    public var kind: String {
        switch self {
        case .city: "city"
        case .district: "district"
        case .subjects: "subjects"
        }
    }

    /// The district a query is limited to; nil: no limit by district.
    public var district: String? {
        if case .district(let code) = self { return code }
        return nil
    }
}
