import RuleLanguage

/// Links records that arrive without a USCC to the enterprise they are about (EVENTS.md): by
/// account number once any record of that account carried a USCC, else by the normalised
/// customer name when exactly one registered enterprise bears it. Pure: the facts it needs are
/// looked up by the caller in one round trip per batch.
struct EntityLinker {
    private let catalog: TopicCatalog
    /// account number → USCC (known before the batch, plus learned in it).
    private var accounts: [String: String] = [:]
    /// normalised name → USCCs registered under it.
    private var names: [String: Set<String>] = [:]
    /// Account links learned from this batch's records.
    private(set) var newLinks: [AccountOwnership] = []
    /// Normalised names registered by this batch: records kept unlinked under them can be linked now.
    private(set) var newNames: Set<String> = []

    init(catalog: TopicCatalog) { self.catalog = catalog }

    struct Needs {
        var enterprises: Set<String> = []
        var accounts: Set<String> = []
        var names: Set<String> = []
    }

    /// What must be looked up before `link` can run.
    func needs(_ changes: some Sequence<Change>, knownRegistrations: [String: Registration]) -> Needs {
        var needs = Needs()
        for change in changes {
            switch change.entity {
            case .enterprise(let uscc):
                if knownRegistrations[uscc.value] == nil { needs.enterprises.insert(uscc.value) }
                if let account = accountNumber(of: change) { needs.accounts.insert(account) }
            case .unlinked(let account, let name):
                if let account, !account.isEmpty { needs.accounts.insert(account) }
                if let name, !name.isEmpty { needs.names.insert(EnterpriseName.normalized(name)) }
            case .person:
                break
            }
        }
        return needs
    }

    /// Takes in the looked-up facts and what the batch itself teaches: registrations in it make
    /// their names linkable, and records carrying both a USCC and an account link the account.
    mutating func learn(_ facts: LinkingFacts, from changes: [Change]) {
        accounts = facts.accounts
        names = facts.names.mapValues(Set.init)
        for change in changes {
            guard case .enterprise(let uscc) = change.entity, change.operation != .delete else { continue }
            if change.topic == Registration.topic, case .string(let name)? = change.fields["name"] {
                let normalized = EnterpriseName.normalized(name)
                names[normalized, default: []].insert(uscc.value)
                newNames.insert(normalized)
            }
            if let account = accountNumber(of: change), accounts[account] != uscc.value {
                accounts[account] = uscc.value
                newLinks.append(AccountOwnership(topicFamily: Self.family(change.topic), accountNo: account, uscc: uscc.value))
            }
        }
    }

    func link(_ change: Change) -> LinkedChange {
        switch change.entity {
        case .enterprise(let uscc):
            return LinkedChange(change: change, entity: EntityKey(.enterprise, uscc.value))
        case .person(let id):
            return LinkedChange(change: change, entity: EntityKey(.person, id.value))
        case .unlinked(let account, let name):
            if let account, let uscc = accounts[account] {
                return LinkedChange(change: change, entity: EntityKey(.enterprise, uscc), linkedBy: .account)
            }
            let normalized = name.map(EnterpriseName.normalized)
            let candidates = normalized.flatMap { names[$0] } ?? []
            if candidates.count == 1 {
                return LinkedChange(change: change, entity: EntityKey(.enterprise, candidates.first!), linkedBy: .name)
            }
            let byAccount = account.map { "account '\($0)' is not linked to an enterprise yet" } ?? "no account number"
            let byName: String
            switch (name, candidates.count) {
            case (nil, _): byName = "no customer name"
            case (let name?, 0): byName = "name '\(name)' matches no registered enterprise"
            case (let name?, let n): byName = "name '\(name)' matches \(n) registered enterprises"
            }
            return LinkedChange(change: change, entity: nil, unlinkedReason: "no USCC: \(byAccount); \(byName)")
        }
    }

    /// The account number of a record whose topic links by account, if it has one.
    private func accountNumber(of change: Change) -> String? {
        guard case .enterprise(_, let link?)? = catalog.topics[change.topic]?.entity, let field = link.accountField,
            case .string(let account)? = change.fields[field], !account.isEmpty
        else { return nil }
        return account
    }

    /// `water` for `water.usage`: accounts belong to a utility, not to one of its tables.
    static func family(_ topic: String) -> String {
        topic.split(separator: ".").first.map(String.init) ?? topic
    }
}
