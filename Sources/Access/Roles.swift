/// The kinds of organisation on the platform (DOMAIN.md, "Users").
public enum OrganisationKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The city's financial office (金融办): the whole city.
    case financialOffice = "financial_office"
    /// A district's office: the enterprises registered in its district.
    case districtOffice = "district_office"
    /// A bank: the enterprises in its portfolio (and, with the marketplace, those it lends to).
    case bank
    /// A government department that feeds the platform.
    case department
    /// An enterprise: itself.
    case enterprise
}

/// What a caller may do. Routes ask for a permission, never for a role, so that a role's rights
/// are read in one place (`Role.permissions`).
public enum Permission: String, Sendable, Hashable, Codable, CaseIterable {
    /// The alert feed, its events and its stream.
    case readAlerts = "read_alerts"
    /// Enterprise profiles and tag members.
    case readEnterprises = "read_enterprises"
    /// The live rule set.
    case readRules = "read_rules"
    /// Rolling out a rule set.
    case reloadRules = "reload_rules"
    /// Raw department input that failed decoding.
    case readQuarantine = "read_quarantine"
    /// The feeds' data health: freshness, key coverage, linking, quarantine reasons, continuity.
    case readDataHealth = "read_data_health"
    /// The one-click query (个人与企业政务共享信息查询), audited.
    case query
    /// Searching the audit log.
    case readAudit = "read_audit"
    /// A person's query record (who queried them, when, why), shown to them at the office's counter.
    case readQueryRecords = "read_query_records"
    /// The query record of the caller's own enterprise: which organisations queried it, when and
    /// why (the data subject's right under the credit-reporting rules).
    case readOwnQueryRecord = "read_own_query_record"
    /// Keys of the caller's own organisation's users.
    case manageOwnKeys = "manage_own_keys"
    /// Organisations, users and keys of the whole platform.
    case manageAccess = "manage_access"
    /// A bank's watchlist.
    case managePortfolio = "manage_portfolio"
    /// The alert desk: acknowledge, assign, comment, resolve, reopen.
    case workAlerts = "work_alerts"
    /// The organisation's webhooks.
    case manageWebhooks = "manage_webhooks"
    /// The financing marketplace: published products and needs, the applications one is party to
    /// (the office: all of them, for oversight).
    case readMarket = "read_market"
    /// Oversight of the marketplace: whether the alerts foretold its loans' outcomes.
    case superviseMarket = "supervise_market"
    /// A bank's side of the marketplace: products, claiming needs, deciding applications,
    /// disbursing, recording repayments.
    case lend
    /// An enterprise's side: publishing needs, applying, withdrawing.
    case borrow
}

/// The platform's roles. A user has one; a role belongs to certain kinds of organisation.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    case officeAnalyst = "office_analyst"
    case officeAdmin = "office_admin"
    case ruleAuthor = "rule_author"
    case `operator`
    case auditor
    case bankOfficer = "bank_officer"
    case bankAdmin = "bank_admin"
    case enterpriseUser = "enterprise_user"

    /// The organisations whose users may hold the role.
    public var organisationKinds: Set<OrganisationKind> {
        switch self {
        case .officeAnalyst, .officeAdmin, .auditor: [.financialOffice, .districtOffice]
        case .ruleAuthor: [.financialOffice]
        case .operator: [.financialOffice, .department]
        case .bankOfficer, .bankAdmin: [.bank]
        case .enterpriseUser: [.enterprise]
        }
    }

    public var permissions: Set<Permission> {
        switch self {
        case .officeAnalyst:
            [.readAlerts, .readEnterprises, .readRules, .query, .workAlerts, .readQueryRecords, .readMarket, .superviseMarket, .readDataHealth]
        case .officeAdmin:
            [
                .readAlerts, .readEnterprises, .readRules, .query, .workAlerts, .readQueryRecords, .manageAccess, .manageOwnKeys, .manageWebhooks,
                .readMarket, .superviseMarket, .readDataHealth,
            ]
        case .ruleAuthor: [.readAlerts, .readEnterprises, .readRules, .reloadRules, .readQuarantine, .readDataHealth]
        case .operator: [.readAlerts, .readEnterprises, .readRules, .reloadRules, .readQuarantine, .readDataHealth]
        case .auditor: [.readRules, .readAudit, .readQueryRecords]
        case .bankOfficer: [.readAlerts, .readEnterprises, .readRules, .query, .managePortfolio, .readMarket, .lend]
        case .bankAdmin: [.readAlerts, .readEnterprises, .readRules, .query, .managePortfolio, .manageOwnKeys, .manageWebhooks, .readMarket, .lend]
        case .enterpriseUser: [.readAlerts, .readEnterprises, .readRules, .readMarket, .borrow, .readOwnQueryRecord]
        }
    }

    /// Whether the role may be given the right to see personal data in clear (ID numbers, names,
    /// phones): office roles only, and only by an explicit grant on the user.
    public var mayHoldPersonalDataRight: Bool {
        [.officeAnalyst, .officeAdmin, .auditor].contains(self)
    }
}
