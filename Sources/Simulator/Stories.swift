import RuleLanguage

/// The planted risk stories. Months are relative to the last simulated month `lastMonth`, so they land
/// in the data whatever the window; steps that would fall before the window are left out.
extension CityBuilder {
    mutating func plantStories(_ plan: Plan) {
        if let i = plan.collapse { plantCollapse(i) }
        if let industry = plan.waveIndustry, !plan.wave.isEmpty { plantWave(industry, plan.wave) }
        if let i = plan.churn { plantChurn(i) }
        if let i = plan.penalty { plantPenalty(i) }
        if let i = plan.seizure { plantSeizure(i) }
    }

    mutating func story(
        _ kind: PlantedStory.Kind, _ i: Int, _ month: Int, _ description: String, affected: [String]? = nil
    ) {
        guard month >= firstMonth, month <= lastMonth else { return }
        let e = model.enterprises[i]
        model.stories.append(
            PlantedStory(
                kind: kind, uscc: e.uscc, name: e.name, industryCode: e.classCode, description: description,
                month: Month(index: month), affected: affected ?? [e.uscc]))
    }

    /// (1) Production stops at `c = lastMonth − 8`: water and taxes collapse, the water bill goes unpaid,
    /// a supplier sues, the enterprise becomes a dishonest debtor.
    mutating func plantCollapse(_ i: Int) {
        var rng = Rng(seed, .stories, 1)
        let c = max(firstMonth + 1, lastMonth - 8)
        var e = model.enterprises[i]
        e.effects = [
            Effect(from: c - 3, ramp: 3, tax: 0.85, water: 0.9, insured: 0.95),
            Effect(from: c, ramp: 1, tax: 0.12, water: 0.1, insured: 1),
            Effect(from: c, ramp: 3, tax: 1, water: 1, insured: 0.3),
        ]
        e.waterArrears = [(c + 1)...max(c + 1, lastMonth)]
        e.insuranceArrears = [(c + 2)...max(c + 2, lastMonth)]
        e.taxSuspended = [(c + 5)...(Int.max - 1)]
        model.enterprises[i] = e
        let court = Gazetteer.districts[e.district]
        let monthlyVAT = e.revenue * e.profile.vatRate
        if c + 4 <= lastMonth {
            taxArrears(
                i, day: workday(in: c + 4, &rng, from: 5, to: 20), type: "增值税", amount: (monthlyVAT * 2.6).rounded(),
                &rng)
        }
        if c + 6 <= lastMonth {
            taxpayerDeltas[i].append((officeHours(workday(in: c + 6, &rng, from: 16, to: 25), &rng), .status("非正常")))
        }
        let amount = 2_386_500.0
        if c + 5 <= lastMonth {
            let caseNo = enforcement(
                .enterprise(uscc: e.uscc, name: e.name), court: court, filed: workday(in: c + 5, &rng, from: 8, to: 20),
                amount: amount, closedIn: nil, &rng)
            if c + 7 <= lastMonth {
                dishonest(
                    .enterprise(uscc: e.uscc, name: e.name), caseNo: caseNo, court: court, listedIn: c + 7,
                    amount: amount,
                    removedIn: nil, &rng)
            }
        }
        story(
            .productionCollapse, i, c, "water usage collapses to about 10% of its trailing average: production stopped")
        story(.productionCollapse, i, c + 2, "tax paid over the last 3 months falls more than 80% year on year")
        story(.productionCollapse, i, c + 3, "water bill unpaid for 3 months (water.arrears months_overdue = 3)")
        story(.productionCollapse, i, c + 4, "tax arrears announced (欠税公告, 增值税)")
        story(.productionCollapse, i, c + 5, "enforcement case filed by a supplier: 2,386,500 yuan (被执行人)")
        story(.productionCollapse, i, c + 6, "taxpayer status turns 非正常 (no filing)")
        story(.productionCollapse, i, c + 7, "listed as a dishonest judgment debtor (失信被执行人)")
    }

    /// (2) An industry-wide downturn from `w = lastMonth − 5`: most of the division's enterprises pay
    /// 42–60% less tax within three months, use less water, shed staff; several fall behind with
    /// social insurance, a few can no longer be reached at their address.
    mutating func plantWave(_ industry: Int, _ members: [Int]) {
        var rng = Rng(seed, .stories, 2)
        let w = max(firstMonth + 1, lastMonth - 5)
        let ranked = members.sorted { model.enterprises[$0].revenue > model.enterprises[$1].revenue }
        var affected: [Int] = []
        for (rank, i) in ranked.enumerated() where rank < 3 || rng.chance(0.75) { affected.append(i) }
        let needed = (Double(members.count) * 0.62).rounded(.up)
        for i in ranked where Double(affected.count) < needed && !affected.contains(i) { affected.append(i) }
        affected.sort()

        for i in affected {
            let drop = rng.uniform(0.42, 0.6)
            model.enterprises[i].effects.append(
                Effect(from: w, ramp: 3, tax: 1 - drop, water: rng.uniform(0.7, 0.85), insured: rng.uniform(0.8, 0.92)))
        }
        let division = Gazetteer.industries[industry].division
        let leader = ranked[0]
        let share = Int((Double(affected.count) / Double(members.count) * 100).rounded())
        story(
            .industryWave, leader, w,
            "\(division): \(affected.count) of \(members.count) enterprises (\(share)%) see taxes fall 42–60% within 3 months",
            affected: affected.map { model.enterprises[$0].uscc })

        // Social-insurance arrears for about one in eight of the affected (at least 3), among
        // the smaller ones.
        let arrearsCount = min(affected.count, max(3, affected.count / 8))
        let byRevenue = affected.sorted { model.enterprises[$0].revenue < model.enterprises[$1].revenue }
        let inArrears = Array(byRevenue.dropFirst(min(3, affected.count - arrearsCount)).prefix(arrearsCount))
        if w + 2 <= lastMonth, let first = inArrears.first {
            for i in inArrears { model.enterprises[i].insuranceArrears = [(w + 2)...lastMonth] }
            story(
                .industryWave, first, w + 2,
                "\(division) downturn: \(inArrears.count) enterprises fall behind with social insurance",
                affected: inArrears.sorted().map { model.enterprises[$0].uscc })
        }
        // Abnormal-operations listings for three of the smallest.
        for (k, i) in byRevenue.filter({ !inArrears.contains($0) }).prefix(3).enumerated() {
            let m = w + 3 + k / 2
            guard m <= lastMonth else { continue }
            abnormal(
                i, listed: workday(in: m, &rng, from: 5, to: 25), reason: Gazetteer.abnormalReasonUnreachable,
                removedIn: nil, &rng)
            story(
                .industryWave, i, m, "\(division) downturn: listed as abnormal (\(Gazetteer.abnormalReasonUnreachable))"
            )
        }
    }

    /// (3) Three legal-representative changes within 12 months, then an abnormal listing.
    mutating func plantChurn(_ i: Int) {
        var rng = Rng(seed, .stories, 3)
        for (k, m) in [lastMonth - 11, lastMonth - 7, lastMonth - 3].enumerated() where m >= firstMonth {
            model.enterprises[i].reps.append(newParty(&rng, bornFrom: 1962, to: 1999))
            marketDeltas[i].append(
                (officeHours(workday(in: m, &rng, from: 3, to: 25), &rng), .rep(model.enterprises[i].reps.count - 1)))
            story(.legalRepresentativeChurn, i, m, "legal representative changed (\(k + 1) of 3 within 12 months)")
        }
        if lastMonth - 2 >= firstMonth {
            abnormal(
                i, listed: workday(in: lastMonth - 2, &rng, from: 5, to: 25),
                reason: Gazetteer.abnormalReasonUnreachable,
                removedIn: nil, &rng)
            story(
                .legalRepresentativeChurn, i, lastMonth - 2,
                "listed as abnormal (\(Gazetteer.abnormalReasonUnreachable))")
        }
    }

    /// (4) A serious food-safety penalty.
    mutating func plantPenalty(_ i: Int) {
        var rng = Rng(seed, .stories, 4)
        let m = max(firstMonth, lastMonth - 4)
        penalty(i, day: workday(in: m, &rng, from: 5, to: 25), serious: true, category: "食品安全", fine: 1_250_000, &rng)
        story(.seriousPenalty, i, m, "serious administrative penalty (严重, 食品安全): fine 1,250,000 yuan")
    }

    /// (5) A developer sued for 18.6 million; a court seizes its largest property the month after.
    mutating func plantSeizure(_ i: Int) {
        var rng = Rng(seed, .stories, 5)
        let e = model.enterprises[i]
        var largest = 0
        for k in 0..<3 {
            let index = property(
                ownerType: "enterprise", ownerID: e.uscc, ownerName: e.name, district: e.district,
                registered: startDay - 200 - 400 * k, area: [32_000, 9_500, 4_200][k],
                mortgage: [45_000_000, 12_000_000, nil][k],
                &rng)
            if k == 0 { largest = index }
            model.records[index].deletedAt = nil
            model.records[index].versions.removeSubrange(1...)
        }
        let court = Gazetteer.districts[e.district]
        let filed = max(firstMonth, lastMonth - 4)
        _ = enforcement(
            .enterprise(uscc: e.uscc, name: e.name), court: court, filed: workday(in: filed, &rng, from: 5, to: 25),
            amount: 18_600_000, closedIn: nil, &rng)
        story(.propertySeizure, i, filed, "enforcement case filed: 18,600,000 yuan")
        let seized = max(firstMonth, lastMonth - 3)
        seize(largest, on: workday(in: seized, &rng, from: 5, to: 25), &rng)
        story(.propertySeizure, i, seized, "court seizes its largest property (不动产查封, seized = true)")
    }
}
