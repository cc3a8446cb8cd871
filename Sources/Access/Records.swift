/// A user of an organisation.
public struct User: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var organisation: Organisation
    public var role: Role
    public var mayReadPersonalData: Bool

    public init(id: Int64, name: String, organisation: Organisation, role: Role, mayReadPersonalData: Bool) {
        self.id = id
        self.name = name
        self.organisation = organisation
        self.role = role
        self.mayReadPersonalData = mayReadPersonalData
    }
}

/// A key as listed: everything but its secret.
public struct KeyInfo: Sendable, Hashable, Codable {
    public var id: String
    public var user: String
    public var organisation: String
    public var role: Role
    public var label: String
    public var createdAt: String
    public var createdBy: String
    public var expiresAt: String?
    public var revokedAt: String?
    public var revokedBy: String?
    /// `active`, `expired` or `revoked`.
    public var status: String

    public init(
        id: String, user: String, organisation: String, role: Role, label: String, createdAt: String, createdBy: String,
        expiresAt: String?, revokedAt: String?, revokedBy: String?, status: String
    ) {
        self.id = id
        self.user = user
        self.organisation = organisation
        self.role = role
        self.label = label
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
        self.status = status
    }
}

/// One enterprise on a bank's watchlist.
public struct PortfolioEntry: Sendable, Hashable, Codable {
    public var uscc: String
    public var note: String
    public var addedAt: String
    public var addedBy: String

    public init(uscc: String, note: String, addedAt: String, addedBy: String) {
        self.uscc = uscc
        self.note = note
        self.addedAt = addedAt
        self.addedBy = addedBy
    }
}

/// What the audit log records of one action: who (user, organisation, role, key), what (action,
/// subject, purpose, authorisation, what was returned), the outcome, and from where.
public struct AuditEntry: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case allowed, refused
    }

    public var actor: String
    public var userID: Int64?
    public var keyID: String?
    public var organisation: String
    public var role: String
    /// `query`, `read_personal_data`, `key_created`, `key_revoked`, `portfolio_changed`, …
    public var action: String
    public var outcome: Outcome
    /// Why it was refused.
    public var reason: String?
    public var purpose: String?
    /// The authorisation as JSON text.
    public var authorisation: String?
    public var subjectKind: String?
    public var subjectID: String?
    /// What was returned (sections and counts) as JSON text.
    public var returned: String?
    public var remoteAddress: String?

    public init(
        by principal: Principal, action: String, outcome: Outcome, reason: String? = nil, purpose: String? = nil,
        authorisation: String? = nil, subjectKind: String? = nil, subjectID: String? = nil, returned: String? = nil,
        remoteAddress: String? = nil
    ) {
        self.init(
            actor: principal.name, userID: principal.userID, keyID: principal.keyID, organisation: principal.organisation.name,
            role: principal.role.rawValue, action: action, outcome: outcome, reason: reason, purpose: purpose, authorisation: authorisation,
            subjectKind: subjectKind, subjectID: subjectID, returned: returned, remoteAddress: remoteAddress)
    }
}

extension AuditEntry {
    /// A row as stored.
    public init(
        actor: String, userID: Int64?, keyID: String?, organisation: String, role: String, action: String, outcome: Outcome,
        reason: String?, purpose: String?, authorisation: String?, subjectKind: String?, subjectID: String?, returned: String?,
        remoteAddress: String?
    ) {
        self.actor = actor
        self.userID = userID
        self.keyID = keyID
        self.organisation = organisation
        self.role = role
        self.action = action
        self.outcome = outcome
        self.reason = reason
        self.purpose = purpose
        self.authorisation = authorisation
        self.subjectKind = subjectKind
        self.subjectID = subjectID
        self.returned = returned
        self.remoteAddress = remoteAddress
    }
}

/// A stored audit row.
public struct AuditRecord: Sendable, Hashable {
    public var id: Int64
    public var at: String
    public var entry: AuditEntry

    public init(id: Int64, at: String, entry: AuditEntry) {
        self.id = id
        self.at = at
        self.entry = entry
    }
}

/// Which audit rows a search returns (nil: any).
public struct AuditFilter: Sendable, Hashable {
    public var subjectID: String?
    public var actor: String?
    public var organisation: String?
    public var action: String?

    public init(subjectID: String? = nil, actor: String? = nil, organisation: String? = nil, action: String? = nil) {
        self.subjectID = subjectID
        self.actor = actor
        self.organisation = organisation
        self.action = action
    }
}

/// An error of the access layer's commands that the caller can fix.
public struct AccessError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
