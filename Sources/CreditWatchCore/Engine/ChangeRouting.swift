/// The router's half of the engine: where on the changes topic each department message goes, so
/// that an enterprise's records reach the instance that owns it (see `Ownership`).
///
/// A record carrying a USCC (or a resident ID) goes to that subject's partition; one without is
/// linked by account or name as far as the store of record knows now (one lookup per batch). What
/// cannot be linked yet, or is not a change at all (a rejected message, a tombstone), goes by its
/// own topic and key: the instance that reads it stores or quarantines it, and a record linked
/// there later leaves its enterprise pending for the owner. Routing is only about where work is
/// done, never about what the results are: a lookup that fails routes by key.
public struct ChangeRouting: Sendable {
    private let catalog: TopicCatalog
    private let decoder: ChangeDecoder
    private let store: any CreditStore

    public init(catalog: TopicCatalog, store: any CreditStore) {
        self.catalog = catalog
        self.decoder = ChangeDecoder(catalog: catalog)
        self.store = store
    }

    /// The partition, among `partitions`, of each message of `batch`, in order; and whether the
    /// store of record could be asked (else messages without a USCC went by key).
    public func partitions(of batch: [InboundMessage], among partitions: Int32) async -> (partitions: [Int32], linked: Bool) {
        let outcomes = await BatchProcessor.decode(batch, decoder)
        let changes = outcomes.compactMap { outcome -> Change? in
            if case .change(let change) = outcome { return change }
            return nil
        }
        var linker = EntityLinker(catalog: catalog)
        let unlinked = changes.filter {
            if case .unlinked = $0.entity { return true }
            return false
        }
        var linked = true
        if !unlinked.isEmpty {
            let needs = linker.needs(unlinked, knownRegistrations: [:])
            if let facts = try? await store.lookup(enterprises: [], accounts: needs.accounts, names: needs.names) {
                linker.learn(facts, from: changes)
            } else {
                linked = false
                linker.learn(LinkingFacts(registrations: [:], accounts: [:], names: [:]), from: changes)
            }
        }
        let keys = zip(batch, outcomes).map { message, outcome in
            if case .change(let change) = outcome, let entity = linker.link(change).entity { return entity.id }
            return message.topic + "/" + String(decoding: message.key ?? [], as: UTF8.self)
        }
        return (keys.map { Ownership.partition(of: $0, among: partitions) }, linked)
    }
}
