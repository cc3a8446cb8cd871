import Foundation
import RuleLanguage
import CreditWatchCore

/// Why a one-click query is made: a fixed list, recorded with the query (credit-reporting
/// regulation: a query states its purpose).
public enum QueryPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    case preLoanReview = "贷前审查"
    case postLoanManagement = "贷后管理"
    case creditApproval = "授信审批"
    case administrativeSupervision = "行政监管"
    case lawEnforcement = "执法协查"
    case creditRepair = "信用修复"
    case selfInquiry = "本人查询"

    /// Whether the purpose is a bank's (a lending decision): it needs the subject's authorisation.
    public var isLending: Bool { [.preLoanReview, .postLoanManagement, .creditApproval].contains(self) }
}

/// What the one-click query is about.
public enum QuerySubject: Sendable, Hashable {
    case enterprise(USCC)
    case person(ResidentID)

    public var id: String {
        switch self {
        case .enterprise(let uscc): uscc.value
        case .person(let id): id.value
        }
    }

    public var kind: String {
        switch self {
        case .enterprise: "enterprise"
        case .person: "person"
        }
    }

    /// Parses a USCC (18 characters with a letter or digit check) or a resident ID number.
    public static func parse(_ text: String) -> QuerySubject? {
        if let uscc = try? USCC(validating: text) { return .enterprise(uscc) }
        if let id = try? ResidentID(validating: text) { return .person(id) }
        return nil
    }
}

/// The subject's authorisation of a query (授权书): who it authorises, for what, until when.
public struct QueryAuthorisation: Sendable, Hashable, Codable {
    /// The signed authorisation's reference (e.g. its archive number).
    public var reference: String
    /// What it authorises, in its own words (e.g. "贷前审查及贷后管理").
    public var scope: String
    public var validFrom: String
    public var validUntil: String

    public init(reference: String, scope: String, validFrom: String, validUntil: String) {
        self.reference = reference
        self.scope = scope
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// Why the authorisation does not cover a query made on `day`; nil when it does.
    public func problem(on day: Day) -> String? {
        if reference.trimmingCharacters(in: .whitespaces).isEmpty { return "authorisation.reference is empty" }
        if scope.trimmingCharacters(in: .whitespaces).isEmpty { return "authorisation.scope is empty" }
        guard let from = Day(iso: validFrom) else { return "authorisation.valid_from must be a date YYYY-MM-DD, got '\(validFrom)'" }
        guard let until = Day(iso: validUntil) else { return "authorisation.valid_until must be a date YYYY-MM-DD, got '\(validUntil)'" }
        if until < from { return "authorisation.valid_until \(validUntil) is before valid_from \(validFrom)" }
        if day < from { return "the authorisation is valid only from \(validFrom)" }
        if day > until { return "the authorisation expired on \(validUntil)" }
        return nil
    }
}

/// Whether a query needs the subject's authorisation: every query about a person, and every
/// query a bank makes.
public func queryNeedsAuthorisation(_ subject: QuerySubject, by principal: Principal) -> Bool {
    if case .person = subject { return true }
    return principal.organisation.kind == .bank
}

extension Day {
    /// Today in the city (China Standard Time, UTC+8, no daylight saving).
    public static func today(now: Date = Date()) -> Day {
        Day(Int(((now.timeIntervalSince1970 + 8 * 3600) / 86_400).rounded(.down)))
    }
}
