/// An organisation on the platform.
public struct Organisation: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var kind: OrganisationKind
    /// District offices: the district they oversee.
    public var district: String?
    /// Enterprises: their USCC.
    public var uscc: String?

    public init(id: Int64, name: String, kind: OrganisationKind, district: String? = nil, uscc: String? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.district = district
        self.uscc = uscc
    }
}

/// Who is calling, as resolved from the request's key: a user of an organisation, with a role and
/// the scope of what they may read.
public struct Principal: Sendable, Hashable {
    /// The user's name, shown in logs and the audit log (never the key).
    public var name: String
    public var userID: Int64?
    public var organisation: Organisation
    public var role: Role
    /// What the principal may read (resolved from the organisation's data at each request).
    public var scope: Scope
    /// An explicit grant to see personal data in clear.
    public var mayReadPersonalData: Bool
    /// The key's public id (`cwk_<id>_…`); nil for development-mode anonymity.
    public var keyID: String?
    public var permissions: Set<Permission>

    public init(
        name: String, userID: Int64? = nil, organisation: Organisation, role: Role, scope: Scope,
        mayReadPersonalData: Bool = false, keyID: String? = nil, permissions: Set<Permission>? = nil
    ) {
        self.name = name
        self.userID = userID
        self.organisation = organisation
        self.role = role
        self.scope = scope
        self.mayReadPersonalData = mayReadPersonalData && role.mayHoldPersonalDataRight
        self.keyID = keyID
        self.permissions = permissions ?? role.permissions
    }

    public func may(_ permission: Permission) -> Bool { permissions.contains(permission) }

    /// A request without a key in development mode (loopback only): every right but personal data,
    /// the whole city.
    public static let development = Principal(
        name: "anonymous", organisation: Organisation(id: 0, name: "development", kind: .financialOffice),
        role: .operator, scope: .city, permissions: Set(Permission.allCases))

    /// The scope an organisation's users read, given its portfolio (banks) — the one rule of
    /// tenancy. Departments see no enterprise data through the API.
    public static func scope(of organisation: Organisation, portfolio: Set<String>) -> Scope {
        switch organisation.kind {
        case .financialOffice: .city
        case .districtOffice: .district(organisation.district ?? "")
        case .bank: .subjects(portfolio)
        case .enterprise: .subjects(Set([organisation.uscc].compactMap { $0 }))
        case .department: .subjects([])
        }
    }
}
