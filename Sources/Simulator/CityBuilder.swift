import RuleLanguage

/// A party to a court case.
enum CourtParty {
    case enterprise(uscc: String, name: String)
    case person(Party)
}

enum MarketDelta {
    case rep(Int)
    case status(String)
    case address(String)
    case capital(Double)
}

enum TaxpayerDelta {
    case status(String)
    case rating(String, Int)
}

/// Builds the ``CityModel`` once, deterministically, from the configuration.
struct CityBuilder {
    let config: CityConfiguration
    let seed: UInt64
    var model: CityModel
    let firstMonth: Int
    let lastMonth: Int

    var usedIDs = Set<String>()
    var usedUSCCs = Set<String>()
    var usedCores = Set<String>()
    var usedPlates = Set<String>()
    var counters: [String: Int] = [:]
    /// Enterprises with an open enforcement case whose property a court will seize, and when.
    var pendingSeizures: [Int: Int] = [:]
    var marketDeltas: [[(ts: Int64, delta: MarketDelta)]] = []
    var taxpayerDeltas: [[(ts: Int64, delta: TaxpayerDelta)]] = []
    var baseMarket: [MarketState] = []
    var baseTaxpayer: [TaxpayerState] = []

    init(configuration: CityConfiguration) {
        config = configuration
        seed = configuration.seed
        firstMonth = configuration.start.index
        lastMonth = max(configuration.end.index, configuration.start.index)
        model = CityModel(
            configuration: configuration, encoding: ConnectorEncoding(varied: configuration.connectorEncodings),
            startIndex: firstMonth, endIndex: lastMonth)
    }

    var startDay: Day { Month(index: firstMonth).firstDay }
    var endDay: Day { Month(index: lastMonth).lastDay }

    static func build(_ configuration: CityConfiguration) -> CityModel {
        var builder = CityBuilder(configuration: configuration)
        builder.makePersons()
        let plan = builder.planDivisions()
        builder.makeEnterprises(plan)
        builder.plantStories(plan)
        builder.backgroundEvents()
        builder.personRecords()
        builder.enterpriseAssets()
        builder.renderEnterpriseRecords()
        builder.paymentCorrections()
        return builder.model
    }

    // MARK: Calendar helpers

    func month(_ index: Int) -> Month { Month(index: index) }

    /// A random day of the month.
    func day(in m: Int, _ rng: inout Rng, from first: Int = 1, to last: Int? = nil) -> Day {
        let mo = month(m)
        let n = Day.daysIn(year: mo.year, month: mo.month)
        return mo.firstDay + rng.int((first - 1)...(min(last ?? n, n) - 1))
    }

    /// The day itself on Monday–Friday; a weekend day moves to the nearest working day of the
    /// same month.
    func workday(_ day: Day) -> Day { nearestWorkday(day) }

    func workday(in m: Int, _ rng: inout Rng, from first: Int = 1, to last: Int? = nil) -> Day {
        workday(day(in: m, &rng, from: first, to: last))
    }

    func years(_ day: Day, _ n: Int) -> Day {
        let c = day.civil
        return Day(year: c.year + n, month: c.month, day: min(c.day, 28))!
    }

    mutating func next(_ counter: String, from first: Int = 1) -> Int {
        let n = (counters[counter] ?? first - 1) + 1
        counters[counter] = n
        return n
    }

    // MARK: People

    mutating func newParty(_ rng: inout Rng, bornFrom: Int = 1955, to: Int = 2002, local: Double = 0.8) -> Party {
        let male = rng.chance(0.55)
        let name = NameMint.personName(&rng, male: male)
        while true {
            let address =
                rng.chance(local)
                ? Gazetteer.districts[rng.int(0..<Gazetteer.districts.count)].code
                : rng.pick(Gazetteer.outsideAddressCodes)
            let birth = Day(year: rng.int(bornFrom...to), month: 1, day: 1)! + rng.int(0...364)
            let id = IdentifierMint.residentID(address: address, birth: birth, male: male, &rng)
            if usedIDs.insert(id).inserted { return Party(name: name, id: id) }
        }
    }

    mutating func makePersons() {
        for i in 0..<max(config.persons, 0) {
            var rng = Rng(seed, .person, i)
            model.persons.append(newParty(&rng, bornFrom: 1950, to: 2006, local: 0.85))
        }
    }

    // MARK: Enterprises

    struct Plan {
        var industries: [Int]
        var collapse: Int?
        var churn: Int?
        var penalty: Int?
        var seizure: Int?
        var wave: [Int]
        var waveIndustry: Int?
        /// GB/T 4754 classes the stories need (a steel-structure maker, a developer).
        var forcedClass: [Int: String] = [:]
        var storyIndices: Set<Int> { Set([collapse, churn, penalty, seizure].compactMap { $0 }) }
    }

    func planDivisions() -> Plan {
        let n = max(config.enterprises, 0)
        let table = Weighted(Gazetteer.industries.indices.map { ($0, Gazetteer.industries[$0].weight) })
        var industries = (0..<n).map { i -> Int in
            var rng = Rng(seed, .enterprise, i, 1)
            return table.sample(&rng)
        }
        var plan = Plan(industries: industries, wave: [])
        guard n >= 60 else { return plan }

        let wave = config.waveDivision
        func avoidingWave(_ preferred: String, _ fallback: String) -> Int {
            Gazetteer.industryIndex(division: preferred == wave ? fallback : preferred)!
        }
        var rng = Rng(seed, .stories)
        var chosen = Set<Int>()
        func pickIndex() -> Int {
            while true {
                let i = rng.int(0..<n)
                if chosen.insert(i).inserted { return i }
            }
        }
        plan.collapse = pickIndex()
        industries[plan.collapse!] = avoidingWave("C33", "C30")
        plan.forcedClass[plan.collapse!] = wave == "C33" ? "C3021" : "C3311"
        plan.churn = pickIndex()
        industries[plan.churn!] = avoidingWave("L72", "F51")
        plan.penalty = pickIndex()
        industries[plan.penalty!] = avoidingWave("C14", "C13")
        plan.seizure = pickIndex()
        industries[plan.seizure!] = avoidingWave("K70", "E47")
        plan.forcedClass[plan.seizure!] = wave == "K70" ? "E4710" : "K7010"

        if let waveIndustry = Gazetteer.industryIndex(division: wave) {
            plan.waveIndustry = waveIndustry
            var members = (0..<n).filter { industries[$0] == waveIndustry && !chosen.contains($0) }
            let minimum = min(30, n / 4)
            while members.count < minimum {
                let i = pickIndex()
                industries[i] = waveIndustry
                members.append(i)
            }
            plan.wave = members.sorted()
        }
        plan.industries = industries
        return plan
    }

    mutating func makeEnterprises(_ plan: Plan) {
        let districtTable = Weighted(Gazetteer.districts.indices.map { ($0, Gazetteer.districts[$0].weight) })
        let storyIndices = plan.storyIndices
        let waveSet = Set(plan.wave)
        for i in plan.industries.indices {
            var rng = Rng(seed, .enterprise, i, 2)
            let industryIndex = plan.industries[i]
            let industry = Gazetteer.industries[industryIndex]
            let profile = industry.profile
            let district = districtTable.sample(&rng)
            let districtInfo = Gazetteer.districts[district]
            let isStory = storyIndices.contains(i)
            let isWave = waveSet.contains(i)

            // Established: most long before the window, some during it; stories and the wave's
            // members are old enough for year-on-year comparisons.
            let established: Day
            var preexistingStatus: String? = nil
            if !isStory && !isWave && rng.chance(0.04) {
                established = day(in: rng.int(firstMonth...lastMonth), &rng)
            } else {
                let age = min(30, Int(-6.5 * log1p(-rng.unit())) + (isStory || isWave ? 3 : 1))
                let year = month(firstMonth).year - age
                established = max(
                    Day(year: 1993, month: 1, day: 1)!, Day(year: year, month: 1, day: 1)! + rng.int(0...364))
                if !isStory && !isWave {
                    let u = rng.unit()
                    if u < 0.02 { preexistingStatus = "吊销" } else if u < 0.035 { preexistingStatus = "注销" }
                }
            }
            var classPick = rng.pick(industry.classes)
            if let forced = plan.forcedClass[i], let match = industry.classes.first(where: { $0.code == forced }) {
                classPick = match
            }

            // Name: prefix + trade name + industry word + (bracket) + legal form; the core
            // (trade name + word) is unique, so no two names normalise alike.
            var tradeName = NameMint.tradeName(&rng)
            var attempts = 0
            while !usedCores.insert(tradeName + classPick.word).inserted {
                attempts += 1
                tradeName =
                    attempts > 20
                    ? NameMint.tradeName(&rng) + String(rng.pick(Gazetteer.tradeSecond)) : NameMint.tradeName(&rng)
            }

            var revenue = rng.logNormal(profile.revenueMu, profile.revenueSigma)
            if isStory { revenue = max(revenue, 2_000_000) }
            let large = revenue > 30_000_000
            let prefixRoll = rng.unit()
            let prefix: String
            if let county = districtInfo.namePrefix, prefixRoll < 0.3 {
                prefix = county
            } else if prefixRoll < 0.42 {
                prefix = "湖南"
            } else if prefixRoll < 0.7 {
                prefix = Gazetteer.cityName
            } else {
                prefix = Gazetteer.cityShort
            }
            let formRoll = rng.unit()
            let form = large && formRoll < 0.4 ? "股份有限公司" : formRoll < 0.24 ? "有限责任公司" : "有限公司"
            let bracketRoll = rng.unit()
            let name: String
            if bracketRoll < 0.04 {
                name = tradeName + classPick.word + "（岳阳）" + form
            } else if bracketRoll < 0.07 || (large && bracketRoll < 0.3) {
                name = prefix + tradeName + classPick.word + "（集团）" + form
            } else {
                name = prefix + tradeName + classPick.word + form
            }

            let registeringDivision = rng.chance(0.25) ? "430600" : districtInfo.code
            var uscc = IdentifierMint.uscc(division: registeringDivision, established: established, &rng)
            while !usedUSCCs.insert(uscc).inserted {
                uscc = IdentifierMint.uscc(division: registeringDivision, established: established, &rng)
            }

            var reps: [Party] = []
            if !model.persons.isEmpty && rng.chance(0.3) {
                reps.append(model.persons[rng.int(0..<model.persons.count)])
            } else {
                reps.append(newParty(&rng, bornFrom: 1955, to: 1996))
            }

            let employees = max(1, Int((revenue / profile.revenuePerEmployee * rng.uniform(0.7, 1.3)).rounded()))
            let generalTaxpayer = revenue * 12 > 5_000_000 || rng.chance(0.1)
            let margin = profile.margin * rng.uniform(0.3, 1.8)
            let citPayer = rng.chance(isStory || isWave ? 0.95 : 0.7)
            let citRate = !citPayer ? 0 : revenue * 12 * margin < 3_000_000 ? 0.05 : 0.25
            let intensity = industry.waterIntensity ?? profile.waterIntensity
            let waterBase = max(4, revenue / 10_000 * intensity * rng.uniform(0.6, 1.4))
            let nameOnly = !isStory && rng.chance(config.waterNameOnlyRate)
            let customerName = nameOnly && rng.chance(0.5) ? NameMint.waterVariant(of: name, &rng) : name

            let establishedMonth = established.month.index
            var lastPeriod = Int.max
            if preexistingStatus != nil {
                lastPeriod = firstMonth - 1 - rng.int(0...18)
            }
            let growth = rng.chance(0.06) ? rng.uniform(-0.25, -0.08) : 0.04 + 0.06 * rng.normal()

            var e = Enterprise(
                index: i, uscc: uscc, name: name, industry: industryIndex, classCode: classPick.code,
                district: district,
                established: established, reps: reps, revenue: revenue, growth: growth,
                generalTaxpayer: generalTaxpayer,
                citRate: citRate, margin: margin, employees: employees, coverage: rng.uniform(0.7, 1.0),
                iitPerHead: rng.uniform(25, 140), payDay: rng.int(3...14),
                urban: districtInfo.namePrefix == nil,
                waterAccount: "0730" + padded(10_000_000 + i * 7 + rng.int(0...6), 8),
                waterCustomerName: customerName, waterNameOnly: nameOnly, waterBase: waterBase,
                waterPrice: industry.section == "H" || industry.division == "O80" ? 4.85 : 4.05,
                firstPeriod: establishedMonth + 1, lastPeriod: lastPeriod)
            e.isStory = isStory
            e.waveMember = isWave

            // Registration rows: the state before the window (or at establishment within it).
            let road = rng.pick(districtInfo.roads)
            let address = districtInfo.fullName + road + String(rng.int(1...688)) + "号"
            let capital: Double? =
                rng.chance(0.03) ? nil : max(100_000, (revenue * rng.uniform(1, 6) / 100_000).rounded() * 100_000)
            let registeredTs: Int64
            if established >= startDay {
                registeredTs = officeHours(workday(established), &rng)
            } else if let status = preexistingStatus {
                let when = Month(index: lastPeriod + 1).firstDay + rng.int(0...20)
                registeredTs = officeHours(max(established + 30, when), &rng)
                _ = status
            } else {
                let recent = max(established, startDay - rng.int(30...1_100))
                registeredTs = officeHours(workday(recent), &rng)
            }
            let status =
                preexistingStatus
                ?? (established < Day(year: 2014, month: 3, day: 1)! && rng.chance(0.35) ? "在业" : "存续")
            baseMarket.append(MarketState(ts: registeredTs, rep: 0, status: status, address: address, capital: capital))
            marketDeltas.append([])

            // Taxpayer: registered within a month of establishment; the latest published rating.
            let ratingYear = month(firstMonth).month >= 4 ? month(firstMonth).year - 1 : month(firstMonth).year - 2
            var rating: String? = nil
            var ratedYear: Int? = nil
            if established.civil.year < ratingYear {
                rating = isStory || isWave ? (rng.chance(0.4) ? "A" : "B") : CityBuilder.ratingTable.sample(&rng)
                ratedYear = ratingYear
            } else if established.civil.year == ratingYear {
                rating = "M"
                ratedYear = ratingYear
            }
            let taxStatus = preexistingStatus == "注销" ? "注销" : preexistingStatus == "吊销" ? "非正常" : "正常"
            let taxpayerTs =
                established >= startDay
                ? registeredTs + Int64(rng.int(3...25)) * 86_400_000 : registeredTs + Int64(rng.int(1...90)) * 60_000
            baseTaxpayer.append(TaxpayerState(ts: taxpayerTs, status: taxStatus, rating: rating, ratingYear: ratedYear))
            taxpayerDeltas.append([])

            model.enterprises.append(e)
        }
    }

    static let ratingTable = Weighted([("A", 0.16), ("B", 0.55), ("M", 0.19), ("C", 0.07), ("D", 0.03)])

    // MARK: Background events

    mutating func backgroundEvents() {
        for i in model.enterprises.indices {
            enterpriseTimeline(i)
        }
    }

    /// Yearly ratings for everyone, and for ordinary enterprises the small misfortunes of
    /// business life, month by month.
    mutating func enterpriseTimeline(_ i: Int) {
        let e = model.enterprises[i]
        guard baseMarket[i].status != "注销", baseMarket[i].status != "吊销" else { return }
        var rating = baseTaxpayer[i].rating
        var taxStatus = baseTaxpayer[i].status
        var abnormalUntil = Int.max
        let establishedMonth = e.established.month.index
        guard max(firstMonth, establishedMonth + 1) <= lastMonth else { return }
        if !e.isStory {
            var rng = Rng(seed, .events, i, -1)
            if rng.chance(0.006) && establishedMonth < firstMonth - 3 { historicCase(i, &rng) }
        }
        for m in max(firstMonth, establishedMonth + 1)...lastMonth {
            guard model.enterprises[i].lastPeriod >= m else { break }
            var rng = Rng(seed, .events, i, m)
            let mo = month(m)
            if taxStatus == "非正常" && m >= abnormalUntil { taxStatus = "正常" }
            // April: the tax bureau publishes last year's credit ratings.
            if mo.month == 4 && e.established.civil.year <= mo.year - 1 {
                let year = mo.year - 1
                let new: String
                if taxStatus == "非正常" {
                    new = "D"
                } else if e.established.civil.year == year {
                    new = "M"
                } else if e.isStory || e.waveMember {
                    new = rating == "A" || rng.chance(0.3) ? "A" : "B"
                } else if let current = rating, current != "M", rng.chance(0.8) {
                    new = current
                } else {
                    new = CityBuilder.ratingTable.sample(&rng)
                }
                rating = new
                taxpayerDeltas[i].append(
                    (officeHours(workday(in: m, &rng, from: 10, to: 25), &rng), .rating(new, year)))
            }
            guard !e.isStory else { continue }
            let party = CourtParty.enterprise(uscc: e.uscc, name: e.name)
            let court = Gazetteer.districts[e.district]

            if rng.chance(0.0012) {
                let serious = rng.chance(0.03)
                let revoked = !serious && rng.chance(0.03) ? m + rng.int(1...4) : nil
                penalty(i, day: workday(in: m, &rng), serious: serious, revokedIn: revoked, &rng)
            }
            if mo.month == 7 && rng.chance(0.02) {
                let removed = rng.chance(0.7) ? m + rng.int(1...8) : nil
                abnormal(
                    i, listed: workday(in: m, &rng, from: 1, to: 12), reason: Gazetteer.abnormalReasonAnnualReport,
                    removedIn: removed, &rng)
            } else if rng.chance(0.0003) {
                let removed = rng.chance(0.4) ? m + rng.int(2...10) : nil
                abnormal(
                    i, listed: workday(in: m, &rng),
                    reason: rng.chance(0.8) ? Gazetteer.abnormalReasonUnreachable : Gazetteer.abnormalReasonFalseInfo,
                    removedIn: removed, &rng)
            }
            if rng.chance(0.0008) {
                let amount = (rng.logNormal(12.2, 1.0) / 100).rounded() * 100
                let filed = workday(in: m, &rng)
                let closes = rng.chance(0.65)
                let closedIn = closes ? m + rng.int(2...12) : nil
                let caseNo = enforcement(party, court: court, filed: filed, amount: amount, closedIn: closedIn, &rng)
                if !closes && rng.chance(0.4) { pendingSeizures[i] = m + rng.int(1...3) }
                if !closes && rng.chance(0.3) {
                    let listedIn = m + rng.int(3...6)
                    dishonest(
                        party, caseNo: caseNo, court: court, listedIn: listedIn, amount: amount,
                        removedIn: rng.chance(0.4) ? listedIn + rng.int(3...12) : nil, &rng)
                }
            }
            if rng.chance(0.0003) {
                let amount = (rng.logNormal(10.8, 1.0) * 100).rounded() / 100
                taxArrears(i, day: workday(in: m, &rng), type: rng.chance(0.7) ? "增值税" : "企业所得税", amount: amount, &rng)
            }
            if rng.chance(0.0015) {
                let length = rng.chance(0.9) ? rng.int(1...2) : rng.int(3...4)
                model.enterprises[i].waterArrears.append(m...min(lastMonth, m + length - 1))
            }
            if rng.chance(0.0015) {
                model.enterprises[i].insuranceArrears.append(m...min(lastMonth, m + rng.int(0...2)))
            }
            if rng.chance(0.003) {
                model.enterprises[i].reps.append(newParty(&rng, bornFrom: 1958, to: 1998))
                marketDeltas[i].append(
                    (officeHours(workday(in: m, &rng), &rng), .rep(model.enterprises[i].reps.count - 1)))
            }
            if rng.chance(0.0015) {
                let d = Gazetteer.districts[e.district]
                let address = d.fullName + rng.pick(d.roads) + String(rng.int(1...688)) + "号"
                marketDeltas[i].append((officeHours(workday(in: m, &rng), &rng), .address(address)))
            }
            if rng.chance(0.0008) {
                let capital = ((baseMarket[i].capital ?? 1_000_000) * rng.uniform(1.5, 3) / 100_000).rounded() * 100_000
                marketDeltas[i].append((officeHours(workday(in: m, &rng), &rng), .capital(capital)))
            }
            if !e.waveMember && rng.chance(0.0004) {
                let day = workday(in: m, &rng)
                marketDeltas[i].append((officeHours(day, &rng), .status("注销")))
                taxpayerDeltas[i].append((officeHours(day - rng.int(3...20), &rng), .status("注销")))
                model.enterprises[i].lastPeriod = m - 1
                break
            }
            if !e.waveMember && taxStatus == "正常" && rng.chance(0.0003) {
                taxStatus = "非正常"
                taxpayerDeltas[i].append((officeHours(workday(in: m, &rng, from: 16, to: 28), &rng), .status("非正常")))
                if rng.chance(0.5) {
                    let back = m + rng.int(2...6)
                    abnormalUntil = back
                    model.enterprises[i].taxSuspended.append((m - 1)...(back - 2))
                    if back <= lastMonth {
                        var later = Rng(seed, .events, i, back + 10_000)
                        taxpayerDeltas[i].append(
                            (officeHours(workday(in: back, &later, from: 1, to: 10), &later), .status("正常")))
                    }
                } else {
                    model.enterprises[i].taxSuspended.append((m - 1)...Int.max - 1)
                }
            }
        }
    }

    /// A court case from before the window: the courts' lists already hold it at the first load.
    /// Half are closed; some unclosed ones made the enterprise a dishonest debtor, a few of those
    /// lifted during the window.
    mutating func historicCase(_ i: Int, _ rng: inout Rng) {
        let e = model.enterprises[i]
        let party = CourtParty.enterprise(uscc: e.uscc, name: e.name)
        let court = Gazetteer.districts[e.district]
        let filed = max(e.established.month.index + 2, firstMonth - rng.int(3...30))
        let amount = (rng.logNormal(12.4, 1.0) / 100).rounded() * 100
        let closes = rng.chance(0.5)
        let closedIn = closes ? min(firstMonth - 1, filed + rng.int(2...12)) : nil
        let caseNo = enforcement(
            party, court: court, filed: workday(in: filed, &rng), amount: amount, closedIn: closedIn, &rng)
        if !closes && rng.chance(0.5) {
            let listedIn = min(firstMonth - 1, filed + rng.int(2...6))
            let removedIn = rng.chance(0.3) ? firstMonth + rng.int(0...12) : nil
            dishonest(
                party, caseNo: caseNo, court: court, listedIn: listedIn, amount: amount, removedIn: removedIn, &rng)
        }
    }

    // MARK: Episodic records

    func authority(_ i: Int, _ rng: inout Rng) -> String {
        rng.chance(0.3)
            ? Gazetteer.cityMarketAuthority : Gazetteer.districts[model.enterprises[i].district].marketAuthority
    }

    static let decisionPrefixes = ["岳楼", "岳云", "岳君", "岳县", "华", "湘阴", "平", "汨"]

    mutating func penalty(
        _ i: Int, day: Day, serious: Bool, category: String? = nil, fine: Double? = nil, revokedIn: Int? = nil,
        _ rng: inout Rng
    ) {
        let e = model.enterprises[i]
        let enc = model.encoding
        let pick = rng.pick(Gazetteer.penaltyCategories)
        let cityLevel = rng.chance(0.3)
        let issuer = cityLevel ? Gazetteer.cityMarketAuthority : Gazetteer.districts[e.district].marketAuthority
        let prefix = cityLevel ? "岳" : CityBuilder.decisionPrefixes[e.district]
        let year = day.civil.year
        let number = next("penalty-\(prefix)-\(year)", from: rng.int(1...40))
        let decisionNo = "\(prefix)市监处罚〔\(year)〕\(number)号"
        var amount = fine ?? (rng.uniform(pick.fineLow, pick.fineHigh) / 100).rounded() * 100
        if serious && fine == nil { amount *= 5 }
        var b = RowBuilder()
        b.add("decision_no", .string(decisionNo))
        b.add("uscc", .string(e.uscc))
        b.add("name", .string(e.name))
        b.add("decision_date", enc.date(day, .marketPenalty))
        b.add("authority", .string(issuer))
        b.add("category", .string(category ?? pick.category))
        b.add("fine_amount", rng.chance(0.05) && fine == nil ? .null : enc.decimal(amount, .marketPenalty))
        b.add("severity", .string(serious ? "严重" : "一般"))
        var record = Record(.marketPenalty, [(officeHours(day, &rng), b.row)])
        if let revokedIn {
            record.deletedAt = officeHours(workday(in: revokedIn, &rng), &rng)
        }
        model.records.append(record)
    }

    mutating func abnormal(_ i: Int, listed: Day, reason: String, removedIn: Int?, _ rng: inout Rng) {
        let e = model.enterprises[i]
        let enc = model.encoding
        let id =
            "YC" + Gazetteer.districts[e.district].code + compact(listed.month)
            + padded(next("abnormal-\(listed.month.index)"), 4)
        let issuer = authority(i, &rng)
        func row(_ removed: Day?) -> JSONObject {
            var b = RowBuilder()
            b.add("id", .string(id))
            b.add("uscc", .string(e.uscc))
            b.add("name", .string(e.name))
            b.add("listed_date", enc.date(listed, .marketAbnormal))
            b.add("reason", .string(reason))
            b.add("removed_date", enc.optionalDate(removed, .marketAbnormal))
            b.add("authority", .string(issuer))
            return b.row
        }
        var record = Record(.marketAbnormal, [(officeHours(listed, &rng), row(nil))])
        if let removedIn {
            let removed = workday(in: removedIn, &rng)
            record.versions.append((officeHours(removed, &rng), row(removed)))
        }
        model.records.append(record)
    }

    /// Files an enforcement case and returns its case number.
    mutating func enforcement(
        _ party: CourtParty, court: Gazetteer.District, filed: Day, amount: Double, closedIn: Int?, _ rng: inout Rng
    ) -> String {
        let enc = model.encoding
        let year = filed.civil.year
        let caseNo = "（\(year)）\(court.courtCode)执\(next("case-\(court.code)-\(year)", from: rng.int(100...400)))号"
        func row(_ closed: Day?) -> JSONObject {
            var b = RowBuilder()
            b.add("case_no", .string(caseNo))
            CityBuilder.addParty(party, to: &b)
            b.add("court", .string(court.court))
            b.add("filed_date", enc.date(filed, .courtEnforcement))
            b.add("amount", enc.decimal(amount, .courtEnforcement))
            b.add("closed_date", enc.optionalDate(closed, .courtEnforcement))
            return b.row
        }
        var record = Record(.courtEnforcement, [(officeHours(filed, &rng), row(nil))])
        if let closedIn {
            let closed = workday(in: closedIn, &rng)
            record.versions.append((officeHours(closed, &rng), row(closed)))
        }
        model.records.append(record)
        return caseNo
    }

    static func addParty(_ party: CourtParty, to b: inout RowBuilder) {
        switch party {
        case .enterprise(let uscc, let name):
            b.add("party_type", "enterprise")
            b.add("uscc", .string(uscc))
            b.add("id_number", .null)
            b.add("name", .string(name))
        case .person(let person):
            b.add("party_type", "person")
            b.add("uscc", .null)
            b.add("id_number", .string(person.id))
            b.add("name", .string(person.name))
        }
    }

    mutating func dishonest(
        _ party: CourtParty, caseNo: String, court: Gazetteer.District, listedIn: Int, listedDay: Day? = nil,
        amount: Double?, removedIn: Int?, _ rng: inout Rng
    ) {
        let enc = model.encoding
        let listed = listedDay ?? workday(in: listedIn, &rng)
        func row(_ removed: Day?) -> JSONObject {
            var b = RowBuilder()
            b.add("case_no", .string(caseNo))
            CityBuilder.addParty(party, to: &b)
            b.add("court", .string(court.court))
            b.add("listed_date", enc.date(listed, .courtDishonest))
            b.add("amount", enc.optionalDecimal(amount, .courtDishonest))
            b.add("removed_date", enc.optionalDate(removed, .courtDishonest))
            return b.row
        }
        var record = Record(.courtDishonest, [(officeHours(listed, &rng), row(nil))])
        if let removedIn {
            let removed = workday(in: removedIn, &rng)
            record.versions.append((officeHours(removed, &rng), row(removed)))
        }
        model.records.append(record)
    }

    mutating func taxArrears(_ i: Int, day: Day, type: String, amount: Double, _ rng: inout Rng) {
        let e = model.enterprises[i]
        let enc = model.encoding
        var b = RowBuilder()
        b.add("id", .string("QS" + compact(day.month) + padded(i, 6) + padded(next("arrears-\(i)"), 2)))
        b.add("uscc", .string(e.uscc))
        b.add("name", .string(e.name))
        b.add("tax_type", .string(type))
        b.add("amount", enc.decimal(amount, .taxArrears))
        b.add("announced_date", enc.date(day, .taxArrears))
        model.records.append(Record(.taxArrears, [(officeHours(day, &rng), b.row)]))
    }

    // MARK: Persons' licences, vehicles and homes

    mutating func personRecords() {
        for p in model.persons.indices {
            var rng = Rng(seed, .person, p, 1)
            let party = model.persons[p]
            let birth = Self.birthDay(of: party.id)
            if rng.chance(0.8) {
                driver(party, birth: birth, index: p, &rng)
            }
            let vehicles = rng.chance(0.55) ? (rng.chance(0.15) ? 2 : 1) : 0
            for _ in 0..<vehicles {
                let registered = max(years(birth, 20), startDay - rng.int(30...4_000))
                vehicle(
                    owner: party.id, ownerName: party.name, registered: registered, types: Gazetteer.vehicleTypesPerson,
                    &rng)
            }
            // New cars bought during the window.
            if rng.chance(0.06) {
                let registered = day(in: rng.int(firstMonth...lastMonth), &rng)
                vehicle(
                    owner: party.id, ownerName: party.name, registered: registered, types: Gazetteer.vehicleTypesPerson,
                    &rng)
            }
            var homes: [Int] = []
            if rng.chance(0.5) {
                homes.append(
                    property(
                        ownerType: "person", ownerID: party.id, ownerName: party.name,
                        district: rng.int(0..<Gazetteer.districts.count), registered: startDay - rng.int(60...5_000),
                        area: rng.uniform(60, 180), &rng))
            }
            if rng.chance(0.03) {
                property(
                    ownerType: "person", ownerID: party.id, ownerName: party.name,
                    district: rng.int(0..<Gazetteer.districts.count),
                    registered: day(in: rng.int(firstMonth...lastMonth), &rng),
                    area: rng.uniform(70, 160), &rng)
            }
            // A few persons are sued and some become dishonest debtors.
            if rng.chance(0.012) {
                let m = rng.int(firstMonth...lastMonth)
                let court = Gazetteer.districts[rng.int(0..<Gazetteer.districts.count)]
                let amount = (rng.logNormal(11, 0.9) / 100).rounded() * 100
                let closes = rng.chance(0.5)
                let caseNo = enforcement(
                    .person(party), court: court, filed: workday(in: m, &rng), amount: amount,
                    closedIn: closes ? m + rng.int(2...10) : nil, &rng)
                if !closes && rng.chance(0.5) {
                    let listedIn = m + rng.int(2...5)
                    dishonest(
                        .person(party), caseNo: caseNo, court: court, listedIn: listedIn, amount: amount,
                        removedIn: rng.chance(0.3) ? listedIn + rng.int(3...9) : nil, &rng)
                    // The court seizes the debtor's home the month after.
                    if let home = homes.first, listedIn + 1 <= lastMonth {
                        let day = workday(in: listedIn + 1, &rng)
                        let record = model.records[home]
                        if record.deletedAt == nil, dayOf(record.versions.last!.ts) < day { seize(home, on: day, &rng) }
                    }
                }
            }
        }
    }

    static func birthDay(of id: String) -> Day {
        let digits = Array(id.utf8)
        func n(_ r: Range<Int>) -> Int { digits[r].reduce(0) { $0 * 10 + Int($1 - 48) } }
        return Day(year: n(6..<10), month: n(10..<12), day: n(12..<14)) ?? Day(0)
    }

    static let licenceClasses = Weighted([
        ("C1", 0.70), ("C2", 0.10), ("B2", 0.08), ("A2", 0.04), ("A1", 0.02), ("D", 0.06),
    ])

    mutating func driver(_ party: Party, birth: Day, index: Int, _ rng: inout Rng) {
        let enc = model.encoding
        let licenceClass = CityBuilder.licenceClasses.sample(&rng)
        let earliest = years(birth, 18)
        let latest = startDay - 30
        guard earliest < latest else { return }
        let issued = earliest + rng.int(0...min(8_000, latest.value - earliest.value))
        var validUntil = years(issued, 6)
        var lastRenewal = issued
        while validUntil < startDay {
            lastRenewal = validUntil - rng.int(0...60)
            validUntil = years(validUntil, 10)
        }
        let statusRoll = rng.unit()
        let status = statusRoll < 0.94 ? "正常" : statusRoll < 0.96 ? "超分" : statusRoll < 0.98 ? "逾期未审验" : "暂扣"
        func row(_ status: String, _ until: Day) -> JSONObject {
            var b = RowBuilder()
            b.add("license_no", .string(party.id))
            b.add("id_number", .string(party.id))
            b.add("name", .string(party.name))
            b.add("license_class", .string(licenceClass))
            b.add("status", .string(status))
            b.add("valid_until", enc.date(until, .trafficDriver))
            return b.row
        }
        var record = Record(.trafficDriver, [(officeHours(lastRenewal, &rng), row(status, validUntil))])
        if validUntil <= endDay {
            if rng.chance(0.95) {
                let renewed = max(startDay, validUntil - rng.int(0...80))
                record.versions.append((officeHours(renewed, &rng), row("正常", years(validUntil, 10))))
            } else {
                record.versions.append((officeHours(validUntil + rng.int(1...20), &rng), row("逾期未换证", validUntil)))
            }
        } else if rng.chance(0.04) {
            let when = day(in: rng.int(firstMonth...lastMonth), &rng)
            record.versions.append((officeHours(when, &rng), row(rng.chance(0.6) ? "超分" : "暂扣", validUntil)))
        }
        record.versions.sort { $0.ts < $1.ts }
        model.resnapshotCandidates.append(model.records.count)
        model.records.append(record)
    }

    static let plateAlphabet = Array("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")

    mutating func plate(_ rng: inout Rng, newEnergy: Bool) -> String {
        while true {
            var p = Gazetteer.platePrefix
            if newEnergy {
                p += rng.chance(0.8) ? "D" : "F"
                for _ in 0..<5 { p.append(rng.pick(Array("0123456789"))) }
            } else {
                for k in 0..<5 {
                    p.append(
                        k < 2
                            ? rng.pick(CityBuilder.plateAlphabet)
                            : rng.pick(Array("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")))
                }
            }
            if usedPlates.insert(p).inserted { return p }
        }
    }

    mutating func vehicle(owner: String, ownerName: String, registered: Day, types: [String], _ rng: inout Rng) {
        let enc = model.encoding
        let newEnergy = registered.civil.year >= 2019 && rng.chance(0.25)
        let plateNo = plate(&rng, newEnergy: newEnergy)
        let type = rng.pick(types)
        func row(_ status: String) -> JSONObject {
            var b = RowBuilder()
            b.add("plate_no", .string(plateNo))
            b.add("owner_id", .string(owner))
            b.add("owner_name", .string(ownerName))
            b.add("vehicle_type", .string(type))
            b.add("registered_date", enc.date(registered, .trafficVehicle))
            b.add("status", .string(status))
            return b.row
        }
        let roll = rng.unit()
        let status = roll < 0.82 ? "正常" : roll < 0.93 ? "抵押" : roll < 0.97 ? "逾期未检验" : "违法未处理"
        var record = Record(.trafficVehicle, [(officeHours(registered, &rng), row(status))])
        if rng.chance(0.05) {
            let when = day(in: rng.int(firstMonth...lastMonth), &rng)
            if when > registered {
                record.versions.append(
                    (officeHours(when, &rng), row(status == "抵押" ? "正常" : rng.chance(0.5) ? "抵押" : "逾期未检验")))
            }
        }
        if rng.chance(0.012) {
            let when = day(in: rng.int(firstMonth...lastMonth), &rng)
            if when > registered + 30, when > dayOf(record.versions.last!.ts) {
                record.deletedAt = officeHours(when, &rng)
            }
        }
        model.records.append(record)
    }

    /// Registers a property and returns its record index.
    @discardableResult
    mutating func property(
        ownerType: String, ownerID: String, ownerName: String, district: Int, registered: Day, area: Double,
        mortgage: Double? = nil, _ rng: inout Rng
    ) -> Int {
        let enc = model.encoding
        let d = Gazetteer.districts[district]
        let year = registered.civil.year
        let place = d.namePrefix ?? Gazetteer.cityName
        let certificateNo =
            "湘（\(year)）\(place)不动产权第\(padded(next("cert-\(place)-\(year)", from: rng.int(100...3_000)), 7))号"
        let location =
            d.fullName + rng.pick(d.roads) + String(rng.int(1...600)) + "号"
            + (ownerType == "person" ? "\(rng.int(1...30))栋\(rng.int(1...32))\(padded(rng.int(1...4), 2))室" : "")
        let mortgageAmount =
            mortgage ?? (rng.chance(0.4) ? (area * rng.uniform(2_000, 5_000) / 1_000).rounded() * 1_000 : nil)
        func row(_ mortgage: Double?, _ seized: Bool, _ ts: Int64) -> JSONObject {
            var b = RowBuilder()
            b.add("certificate_no", .string(certificateNo))
            b.add("owner_type", .string(ownerType))
            b.add("owner_id", .string(ownerID))
            b.add("owner_name", .string(ownerName))
            b.add("location", .string(location))
            b.add("area_m2", enc.decimal(area, .realestateRights))
            b.add("mortgage_amount", enc.optionalDecimal(mortgage, .realestateRights))
            b.add("seized", enc.bool(seized, .realestateRights))
            b.add("updated_at", enc.timestamp(ts, .realestateRights))
            return b.row
        }
        let ts = officeHours(workday(registered), &rng)
        var record = Record(.realestateRights, [(ts, row(mortgageAmount, false, ts))])
        if mortgageAmount != nil && rng.chance(0.08) {
            let when = officeHours(day(in: rng.int(firstMonth...lastMonth), &rng), &rng)
            if when > ts { record.versions.append((when, row(nil, false, when))) }
        } else if mortgageAmount == nil && rng.chance(0.03) {
            let when = officeHours(day(in: rng.int(firstMonth...lastMonth), &rng), &rng)
            if when > ts { record.versions.append((when, row((area * 3_000 / 1_000).rounded() * 1_000, false, when))) }
        }
        if rng.chance(0.01) {
            let when = officeHours(day(in: rng.int(firstMonth...lastMonth), &rng), &rng)
            if when > record.versions.last!.ts { record.deletedAt = when }
        }
        model.records.append(record)
        return model.records.count - 1
    }

    /// Adds a later version of a property with `seized` set.
    mutating func seize(_ recordIndex: Int, on day: Day, _ rng: inout Rng) {
        let enc = model.encoding
        var record = model.records[recordIndex]
        var row = record.versions.last!.row
        let ts = officeHours(day, &rng)
        row["seized"] = enc.bool(true, .realestateRights)
        row["updated_at"] = enc.timestamp(ts, .realestateRights)
        record.versions.append((ts, row))
        record.deletedAt = nil
        model.records[recordIndex] = record
    }

    mutating func enterpriseAssets() {
        for i in model.enterprises.indices {
            let e = model.enterprises[i]
            guard baseMarket[i].status != "注销" else { continue }
            var rng = Rng(seed, .enterprise, i, 3)
            let transport = e.division == "G54"
            let count = transport ? rng.int(4...30) : e.revenue > 1_000_000 && rng.chance(0.5) ? rng.int(1...3) : 0
            for _ in 0..<count {
                let registered = max(e.established + 20, startDay - rng.int(30...3_000))
                let types = transport ? Gazetteer.vehicleTypesTransport : Gazetteer.vehicleTypesEnterprise
                vehicle(owner: e.uscc, ownerName: e.name, registered: registered, types: types, &rng)
            }
            let developer = e.division == "K70" && e.classCode == "K7010"
            var properties = e.isStory ? 0 : developer ? rng.int(2...5) : rng.chance(0.35) ? rng.int(1...3) : 0
            if pendingSeizures[i] != nil { properties = max(1, properties) }
            var owned: [Int] = []
            for _ in 0..<properties {
                let registered = max(e.established + 30, startDay - rng.int(30...4_000))
                let area = developer ? rng.uniform(5_000, 60_000) : rng.uniform(200, 8_000)
                owned.append(
                    property(
                        ownerType: "enterprise", ownerID: e.uscc, ownerName: e.name, district: e.district,
                        registered: registered, area: area, &rng))
            }
            if let m = pendingSeizures[i], m <= lastMonth, let first = owned.first {
                let day = workday(in: m, &rng)
                let record = model.records[first]
                if record.deletedAt == nil, dayOf(record.versions.last!.ts) < day { seize(first, on: day, &rng) }
            }
        }
    }

    // MARK: Rendering enterprise rows

    mutating func renderEnterpriseRecords() {
        let enc = model.encoding
        for i in model.enterprises.indices {
            let e = model.enterprises[i]
            var state = baseMarket[i]
            func marketRow(_ s: MarketState) -> JSONObject {
                let rep = e.reps[s.rep]
                var b = RowBuilder(capacity: 11)
                b.add("uscc", .string(e.uscc))
                b.add("name", .string(e.name))
                b.add("legal_rep_name", .string(rep.name))
                b.add("legal_rep_id", Self.hasRepID(e.index, s.rep) ? .string(rep.id) : .null)
                b.add("industry_code", .string(e.classCode))
                b.add("registered_capital", s.capital.map { enc.decimal($0, .marketEnterprise) } ?? .null)
                b.add("established_date", enc.date(e.established, .marketEnterprise))
                b.add("status", .string(s.status))
                b.add("district_code", .string(Gazetteer.districts[e.district].code))
                b.add("address", (e.index % 23 == 7) ? .null : .string(s.address))
                b.add("updated_at", enc.timestamp(s.ts, .marketEnterprise))
                return b.row
            }
            var market = Record(.marketEnterprise, [(Self.envelopeTs(state.ts), marketRow(state))])
            for (ts, delta) in marketDeltas[i].sorted(by: { $0.ts < $1.ts }) {
                state.ts = ts
                switch delta {
                case .rep(let r): state.rep = r
                case .status(let s): state.status = s
                case .address(let a): state.address = a
                case .capital(let c): state.capital = c
                }
                market.versions.append((Self.envelopeTs(ts), marketRow(state)))
            }
            model.resnapshotCandidates.append(model.records.count)
            model.records.append(market)

            var tax = baseTaxpayer[i]
            func taxRow(_ s: TaxpayerState) -> JSONObject {
                var b = RowBuilder(capacity: 6)
                b.add("uscc", .string(e.uscc))
                b.add("name", .string(e.name))
                b.add("taxpayer_status", .string(s.status))
                b.add("credit_rating", s.rating.map(FeedValue.string) ?? .null)
                b.add("rating_year", s.ratingYear.map { .int(Int64($0)) } ?? .null)
                b.add("updated_at", enc.timestamp(s.ts, .taxTaxpayer))
                return b.row
            }
            var taxpayer = Record(.taxTaxpayer, [(Self.envelopeTs(tax.ts), taxRow(tax))])
            for (ts, delta) in taxpayerDeltas[i].sorted(by: { $0.ts < $1.ts }) {
                tax.ts = ts
                switch delta {
                case .status(let s): tax.status = s
                case .rating(let r, let y):
                    tax.rating = r
                    tax.ratingYear = y
                }
                taxpayer.versions.append((Self.envelopeTs(ts), taxRow(tax)))
            }
            model.resnapshotCandidates.append(model.records.count)
            model.records.append(taxpayer)
        }
    }

    /// A few registrations lack the representative's ID number (old paper records).
    static func hasRepID(_ enterprise: Int, _ rep: Int) -> Bool { (enterprise * 31 + rep * 7) % 40 != 3 }

    /// The connector sees a committed row a moment after its `updated_at`.
    static func envelopeTs(_ updatedAt: Int64) -> Int64 { updatedAt + 150 + updatedAt % 2_750 }

    // MARK: Payment corrections

    /// The tax bureau corrects or cancels a few payments of the previous month.
    mutating func paymentCorrections() {
        guard firstMonth < lastMonth else { return }
        for m in (firstMonth + 1)...lastMonth {
            var rng = Rng(seed, .events, -1, m)
            let n = model.enterprises.count
            guard n > 0 else { return }
            let corrections = Int((Double(n) * 0.0008 + rng.unit()).rounded(.down))
            for _ in 0..<corrections {
                let i = rng.int(0..<n)
                let e = model.enterprises[i]
                guard !e.isStory else { continue }
                let payments = model.taxPayments(e, paidIn: m - 1)
                guard let original = payments.first else { continue }
                let ts = officeHours(workday(in: m, &rng, from: 16, to: 28), &rng)
                if rng.chance(0.3) {
                    model.extraChanges[m, default: []].append(
                        Change(ts: ts, feed: .taxPayment, op: .delete, before: original.row, after: nil))
                } else {
                    var corrected = original.row
                    let amount = (original.amount * rng.uniform(0.85, 1.15) * 100).rounded() / 100
                    corrected["amount"] = model.encoding.decimal(amount, .taxPayment)
                    model.extraChanges[m, default: []].append(
                        Change(ts: ts, feed: .taxPayment, op: .update, before: original.row, after: corrected))
                }
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
