import RuleLanguage

/// How big the simulated city is, which months it covers, and how dirty its feeds are.
///
/// Every default is documented at its property. The same configuration always produces the same
/// bytes (the seed drives every random choice).
public struct CityConfiguration: Sendable, Hashable {
    /// Registered enterprises (default 3000). Planted stories need at least 60.
    public var enterprises: Int
    /// Persons with driving licences, vehicles and homes, besides the enterprises' legal
    /// representatives (default 2000).
    public var persons: Int
    /// The seed of every random choice (default 42).
    public var seed: UInt64
    /// The last simulated month (default 2026-10).
    public var end: Month
    /// The first simulated month (default: 24 months before `end`, so 25 months in all: two
    /// full years of year-on-year comparisons). Data before it arrives as registrations only.
    public var start: Month {
        get { explicitStart ?? end - 24 }
        set { explicitStart = newValue }
    }
    private var explicitStart: Month?

    /// Share of deliberately bad messages sprinkled into every batch (default 0.002).
    public var badInputRate: Double
    /// Share of messages sent without a key (default 0.01).
    public var keylessRate: Double
    /// Share of messages delivered twice, as at-least-once delivery does (default 0.001).
    public var duplicateRate: Double
    /// Share of enterprises whose current `market.enterprise`, `tax.taxpayer` rows and persons'
    /// `traffic.driver` rows are re-sent as a snapshot (`op: r`) every sixth month (default 0.02).
    public var resnapshotRate: Double
    /// Share of water accounts known to the water company by name only, never with a USCC
    /// (default 0.12); half of them spell the name slightly differently from the registry.
    public var waterNameOnlyRate: Double
    /// For the other accounts, the share of records after the first that omit the USCC
    /// (default 0.2; with the name-only accounts about 30% of all water records lack a USCC).
    public var waterMissingUSCCRate: Double
    /// The GB/T 4754 division hit by the planted industry-wide downturn (default `C17`, textiles).
    public var waveDivision: String
    /// Render fields the various ways departments' Debezium connectors do (default true): dates as
    /// day counts and decimals as strings for the tax department, epoch-millisecond timestamps,
    /// 0/1 booleans for real estate. When false: ISO dates and timestamps, JSON numbers, true/false.
    public var connectorEncodings: Bool
    /// Feeds sent in the plain envelope (the row itself) instead of Debezium (default none). Plain
    /// feeds carry no deletes and no tombstones.
    public var plainFeeds: Set<Feed>
    /// Feeds whose department stops sending after the given month (default none): the seed's
    /// stale catalogues, for data health. Registrations before the window are sent regardless.
    public var stoppedFeeds: [Feed: Month]

    public init(
        enterprises: Int = 3000, persons: Int = 2000, seed: UInt64 = 42, start: Month? = nil,
        end: Month = Month(year: 2026, month: 10), badInputRate: Double = 0.002
    ) {
        self.enterprises = enterprises
        self.persons = persons
        self.seed = seed
        self.end = end
        self.explicitStart = start
        self.badInputRate = badInputRate
        self.keylessRate = 0.01
        self.duplicateRate = 0.001
        self.resnapshotRate = 0.02
        self.waterNameOnlyRate = 0.12
        self.waterMissingUSCCRate = 0.2
        self.waveDivision = "C17"
        self.connectorEncodings = true
        self.plainFeeds = []
        self.stoppedFeeds = [:]
    }

    /// The simulated months, `start` through `end`.
    public var months: [Month] {
        start <= end ? (start.index...end.index).map(Month.init(index:)) : []
    }
}

/// A risk story deliberately planted in the city, for the demo printout and the tests.
public struct PlantedStory: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Production stops: water collapses, taxes collapse, water arrears, an enforcement case,
        /// a dishonest-debtor listing.
        case productionCollapse = "production_collapse"
        /// An industry-wide downturn: most of one division's enterprises pay far less tax.
        case industryWave = "industry_wave"
        /// Frequent legal-representative changes, then an abnormal-operations listing.
        case legalRepresentativeChurn = "legal_representative_churn"
        /// A serious administrative penalty.
        case seriousPenalty = "serious_penalty"
        /// A property of the enterprise is seized by a court.
        case propertySeizure = "property_seizure"
    }

    public let kind: Kind
    /// The enterprise (for an industry wave: its largest affected enterprise).
    public let uscc: String
    public let name: String
    /// GB/T 4754 class of the enterprise, e.g. `C3311`.
    public let industryCode: String
    /// What happens, in one line.
    public let description: String
    /// The month the step becomes visible in the data (a `period`, a listing or filing date).
    public let month: Month
    /// For an industry wave, every affected enterprise; otherwise just `uscc`.
    public let affected: [String]
}

/// A registered enterprise of the simulated city, as the demo and tests need to find it.
public struct SimulatedEnterprise: Sendable, Hashable {
    public let uscc: String
    public let name: String
    public let industryCode: String
    public let districtCode: String
    public let established: Day
    /// The water company's account number.
    public let waterAccount: String
}
