import CreditWatchCore
import RuleLanguage

/// A natural person as the departments know them.
struct Party: Sendable, Hashable {
    let name: String
    let id: String
}

/// One version of an enterprise's registration row.
struct MarketState: Sendable {
    var ts: Int64
    var rep: Int
    var status: String
    var address: String
    var capital: Double?
}

/// One version of an enterprise's taxpayer row.
struct TaxpayerState: Sendable {
    var ts: Int64
    var status: String
    var rating: String?
    var ratingYear: Int?
}

/// A change to an enterprise's economy from a month on, reached linearly over `ramp` months:
/// tax, water and insured headcount are multiplied by the targets.
struct Effect: Sendable {
    let from: Int
    let ramp: Int
    let tax: Double
    let water: Double
    let insured: Double

    func apply(_ target: Double, at period: Int) -> Double {
        guard period >= from else { return 1 }
        let progress = min(1, Double(period - from + 1) / Double(max(ramp, 1)))
        return 1 + (target - 1) * progress
    }
}

struct Enterprise: Sendable {
    let index: Int
    let uscc: String
    let name: String
    let industry: Int
    let classCode: String
    let district: Int
    let established: Day
    var reps: [Party]
    var market: [MarketState] = []
    var taxpayer: [TaxpayerState] = []

    // Economy.
    let revenue: Double
    let growth: Double
    let generalTaxpayer: Bool
    let citRate: Double
    let margin: Double
    let employees: Int
    let coverage: Double
    let iitPerHead: Double
    let payDay: Int
    let urban: Bool

    // Water.
    let waterAccount: String
    let waterCustomerName: String
    let waterNameOnly: Bool
    let waterBase: Double
    let waterPrice: Double

    var effects: [Effect] = []
    var insuranceArrears: [ClosedRange<Int>] = []
    var waterArrears: [ClosedRange<Int>] = []
    var taxSuspended: [ClosedRange<Int>] = []
    /// First and last month with monthly activity (water, insurance, tax periods).
    var firstPeriod: Int
    var lastPeriod: Int
    var isStory = false
    var waveMember = false

    var profile: Gazetteer.Profile { Gazetteer.industries[industry].profile }
    var division: String { Gazetteer.industries[industry].division }

    func isActive(_ period: Int) -> Bool { period >= firstPeriod && period <= lastPeriod }

    func paysTax(_ period: Int) -> Bool {
        isActive(period) && !taxSuspended.contains { $0.contains(period) }
    }

    func factors(_ period: Int) -> (tax: Double, water: Double, insured: Double) {
        var tax = 1.0
        var water = 1.0
        var insured = 1.0
        for effect in effects {
            tax *= effect.apply(effect.tax, at: period)
            water *= effect.apply(effect.water, at: period)
            insured *= effect.apply(effect.insured, at: period)
        }
        return (tax, water, insured)
    }
}

/// A row that changes over time: its versions (each with the envelope timestamp) and perhaps a
/// delete. Registrations carry the last version before the simulation starts; later versions
/// become `c`/`u` changes, the delete a `d` and a tombstone.
struct Record: Sendable {
    let feed: Feed
    var versions: [(ts: Int64, row: JSONObject)]
    var deletedAt: Int64?

    init(_ feed: Feed, _ versions: [(ts: Int64, row: JSONObject)] = [], deletedAt: Int64? = nil) {
        self.feed = feed
        self.versions = versions
        self.deletedAt = deletedAt
    }

    /// The row as of `ms`, or nil when it did not exist then.
    func row(at ms: Int64) -> JSONObject? {
        if let deletedAt, deletedAt <= ms { return nil }
        return versions.last { $0.ts <= ms }?.row
    }
}

/// The whole simulated city, built once from the configuration.
struct CityModel: Sendable {
    let configuration: CityConfiguration
    let encoding: ConnectorEncoding
    let startIndex: Int
    let endIndex: Int
    var enterprises: [Enterprise] = []
    var persons: [Party] = []
    var records: [Record] = []
    /// Records re-sent as snapshots (market.enterprise, tax.taxpayer, traffic.driver).
    var resnapshotCandidates: [Int] = []
    /// Changes that are not versions of a record (payment corrections), by month index.
    var extraChanges: [Int: [Change]] = [:]
    var stories: [PlantedStory] = []

    var startMs: Int64 { epochMilliseconds(Month(index: startIndex).firstDay, minute: 0) }
    var endMs: Int64 { epochMilliseconds(Month(index: endIndex).lastDay + 1, minute: 0) }
}

// MARK: - Identifiers

enum IdentifierMint {
    static let usccAlphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")

    /// A USCC for an enterprise registered by `division` (6 digits) on `established`: organisation
    /// codes issued since October 2015 start `MA4` (Hunan), older ones are the GB 11714 code with
    /// its own check character.
    static func uscc(division: String, established: Day, _ rng: inout Rng) -> String {
        var body = "91" + division
        if established >= Day(year: 2015, month: 10, day: 1)! {
            body += "MA4"
            for _ in 0..<6 { body.append(rng.pick(usccAlphabet)) }
        } else {
            body += organisationCode(&rng)
        }
        return body + String(USCC.checkCharacter(forFirst17: body)!)
    }

    /// An old 9-character organisation code (GB 11714): 8 digits and a check character.
    static func organisationCode(_ rng: inout Rng) -> String {
        let weights = [3, 7, 9, 10, 5, 8, 4, 2]
        var digits: [Int] = []
        var sum = 0
        for w in weights {
            let d = rng.int(0...9)
            digits.append(d)
            sum += d * w
        }
        let c = 11 - sum % 11
        let check = c == 10 ? "X" : c == 11 ? "0" : String(c)
        return digits.map(String.init).joined() + check
    }

    /// A resident ID number: address code, birth date, sequence (odd for men), check character.
    static func residentID(address: String, birth: Day, male: Bool, _ rng: inout Rng) -> String {
        let c = birth.civil
        var seq = rng.int(0...998)
        if (seq % 2 == 1) != male { seq += 1 }
        let body = address + padded(c.year, 4) + Day.pad2(c.month) + Day.pad2(c.day) + padded(seq, 3)
        return body + String(ResidentID.checkCharacter(forFirst17: body)!)
    }
}

// MARK: - Names

enum NameMint {
    static func personName(_ rng: inout Rng, male: Bool) -> String {
        let surname = surnameTable.sample(&rng)
        let pool = male ? Gazetteer.givenMale : Gazetteer.givenFemale
        var name = surname + String(rng.pick(pool))
        if rng.chance(0.75) {
            name.append(rng.pick(rng.chance(0.7) ? pool : Gazetteer.givenMale + Gazetteer.givenFemale))
        }
        return name
    }

    static let surnameTable = Weighted(Gazetteer.surnames)

    /// A trade name (字号).
    static func tradeName(_ rng: inout Rng) -> String {
        if rng.chance(0.12) { return rng.pick(Gazetteer.localTradeNames) }
        let a = rng.pick(Gazetteer.tradeFirst)
        var b = rng.pick(Gazetteer.tradeSecond)
        while b == a { b = rng.pick(Gazetteer.tradeSecond) }
        return String(a) + String(b)
    }

    /// How the water company spells a registered name when it knows the customer by name only:
    /// half-width brackets, the other limited-company suffix, or a stray space.
    static func waterVariant(of name: String, _ rng: inout Rng) -> String {
        if name.contains("（") {
            return name.replacingAll("（", "(").replacingAll("）", ")")
        }
        if name.hasSuffix("有限责任公司") { return String(name.dropLast(6)) + "有限公司" }
        if name.hasSuffix("股份有限公司") { return name.replacingAll("股份有限公司", " 股份有限公司") }
        if name.hasSuffix("有限公司") {
            return rng.chance(0.5) ? String(name.dropLast(4)) + "有限责任公司" : String(name.dropLast(4)) + " 有限公司"
        }
        return name + " "
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}
