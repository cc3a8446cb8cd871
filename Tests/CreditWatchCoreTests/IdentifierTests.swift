import CreditWatchCore
import RuleLanguage
import Testing

@Suite("USCC (GB 32100-2015)")
struct USCCTests {
    @Test(
        "real-world codes are valid",
        arguments: [
            "91350100M000100Y43", "91110000802100433B", "914403001922038216", "91440300708461136T",
            "91310000717854505W",
        ])
    func realWorld(code: String) throws {
        let uscc = try USCC(validating: code)
        #expect(uscc.value == code)
        #expect(uscc.description == code)
        #expect(USCC.checkCharacter(forFirst17: String(code.prefix(17))) == code.last)
    }

    @Test("check characters computed for constructed codes")
    func computed() throws {
        #expect(USCC.checkCharacter(forFirst17: "91430602MA4L12345") == "1")
        #expect(USCC.checkCharacter(forFirst17: "92430602MA4L12345") == "X")
        #expect(USCC.checkCharacter(forFirst17: "93430602MA4L12345") == "T")
        #expect(USCC.checkCharacter(forFirst17: "Y1430602MA4L12345") == "B")
        #expect(USCC.checkCharacter(forFirst17: "12100000400000050") == "2")
        #expect(USCC.checkCharacter(forFirst17: "91350100M000100Y4") == "3")
        // Lowercase is read as uppercase.
        #expect(USCC.checkCharacter(forFirst17: "91350100m000100y4") == "3")
        for code in ["91430602MA4L123451", "92430602MA4L12345X", "93430602MA4L12345T", "Y1430602MA4L12345B"] {
            #expect(try USCC(validating: code).value == code)
        }
    }

    @Test(
        "checkCharacter is nil for an invalid prefix",
        arguments: ["", "9135010M000100Y4", "91350100M000100Y43", "9135I100M000100Y4"])
    func noCheckCharacter(prefix: String) {
        #expect(USCC.checkCharacter(forFirst17: prefix) == nil)
    }

    @Test("lowercase letters are normalised, positions 3–8 are the division")
    func normalisation() throws {
        let uscc = try USCC(validating: "91350100m000100y43")
        #expect(uscc.value == "91350100M000100Y43")
        #expect(uscc == (try USCC(validating: "91350100M000100Y43")))
        #expect(uscc.administrativeDivision == "350100")
        #expect(try USCC(validating: "91430602MA4L123451").administrativeDivision == "430602")
        #expect(try USCC(validating: "91110000802100433b").value == "91110000802100433B")
    }

    @Test(
        "rejections",
        arguments: [
            ("91350100M000100Y4", IdentifierError.Code.length, "USCC must have 18 characters, got 17"),
            ("", .length, "USCC must have 18 characters, got 0"),
            ("91350100M000100Y433", .length, "USCC must have 18 characters, got 19"),
            (" 91350100M000100Y43", .length, "USCC must have 18 characters, got 19"),
            ("9135I100M000100Y43", .character, "USCC character 'I' at position 5 is not in the GB 32100 alphabet"),
            ("91350100O000100Y43", .character, "USCC character 'O' at position 9 is not in the GB 32100 alphabet"),
            ("91350100M000100Y4Z", .character, "USCC character 'Z' at position 18 is not in the GB 32100 alphabet"),
            ("9135０100M000100Y43", .character, "USCC character '０' at position 5 is not in the GB 32100 alphabet"),
            ("91350100M000-00Y43", .character, "USCC character '-' at position 13 is not in the GB 32100 alphabet"),
            ("91350100M000100Y44", .checkCharacter, "USCC check character is '4', expected '3'"),
            ("91430600MA4L0XXXXX", .checkCharacter, "USCC check character is 'X', expected '7'"),
        ])
    func rejection(text: String, code: IdentifierError.Code, reason: String) {
        #expect(throws: IdentifierError(code, reason)) { try USCC(validating: text) }
    }
}

@Suite("Resident ID number (GB 11643-1999)")
struct ResidentIDTests {
    @Test("the standard's example")
    func standardExample() throws {
        let id = try ResidentID(validating: "11010519491231002X")
        #expect(id.value == "11010519491231002X")
        #expect(id.birthDate == Day(year: 1949, month: 12, day: 31)!)
        #expect(id.isMale == false)
        #expect(id.masked == "110105********002X")
        #expect("\(id)" == "110105********002X")
        #expect(ResidentID.checkCharacter(forFirst17: "11010519491231002") == "X")
    }

    @Test("lowercase x is normalised")
    func lowercaseX() throws {
        let id = try ResidentID(validating: "11010519491231002x")
        #expect(id.value == "11010519491231002X")
        #expect(id == (try ResidentID(validating: "11010519491231002X")))
    }

    @Test("computed numbers: sex, birth date, mask")
    func computed() throws {
        #expect(ResidentID.checkCharacter(forFirst17: "43060219900101123") == "5")
        #expect(ResidentID.checkCharacter(forFirst17: "43060219850715002") == "7")
        #expect(ResidentID.checkCharacter(forFirst17: "43060220000229001") == "6")
        let man = try ResidentID(validating: "430602199001011235")
        #expect(man.isMale)
        #expect(man.birthDate.description == "1990-01-01")
        #expect(man.masked == "430602********1235")
        let woman = try ResidentID(validating: "430602198507150027")
        #expect(!woman.isMale)
        #expect(woman.birthDate == Day(iso: "1985-07-15")!)
        // 2000 is a leap year (divisible by 400).
        #expect(try ResidentID(validating: "430602200002290016").birthDate.description == "2000-02-29")
    }

    @Test(
        "checkCharacter is nil for an invalid prefix",
        arguments: ["", "4306021990010112", "4306021990010112A", "430602199001011235"])
    func noCheckCharacter(prefix: String) {
        #expect(ResidentID.checkCharacter(forFirst17: prefix) == nil)
    }

    @Test(
        "rejections",
        arguments: [
            ("11010519491231002", IdentifierError.Code.length, "ID number must have 18 characters, got 17"),
            ("110105194912310021X", .length, "ID number must have 18 characters, got 19"),
            ("110105491231002", .length, "ID number must have 18 characters, got 15"),
            ("1101051949123100AX", .character, "ID number character 'A' at position 17 is not a digit"),
            ("11010519491231002Y", .character, "ID number character 'Y' at position 18 is not a digit or X"),
            ("１1010519491231002X", .character, "ID number character '１' at position 1 is not a digit"),
            ("430602199902310013", .birthDate, "ID number birth date 19990231 is not a real date"),
            ("430602202302290017", .birthDate, "ID number birth date 20230229 is not a real date"),
            ("43060219000229001X", .birthDate, "ID number birth date 19000229 is not a real date"),
            ("430602199013010010", .birthDate, "ID number birth date 19901301 is not a real date"),
            ("430602179912310019", .birthDate, "ID number birth year 1799 is outside 1800–2099"),
            ("110105194912310021", .checkCharacter, "ID number check character is '1', expected 'X'"),
            ("430602199001011230", .checkCharacter, "ID number check character is '0', expected '5'"),
            ("43060219900101123x", .checkCharacter, "ID number check character is 'x', expected '5'"),
        ])
    func rejection(text: String, code: IdentifierError.Code, reason: String) {
        #expect(throws: IdentifierError(code, reason)) { try ResidentID(validating: text) }
    }
}

@Suite("Industry code (GB/T 4754-2017)")
struct IndustryCodeTests {
    @Test(
        "valid codes at every level",
        arguments: [
            ("C3011", "C3011", "C", "C30"), ("C301", "C301", "C", "C30"), ("C30", "C30", "C", "C30"),
            ("c3011", "C3011", "C", "C30"), ("A01", "A01", "A", "A01"), ("A0511", "A0511", "A", "A05"),
            ("K70", "K70", "K", "K70"), ("P8310", "P8310", "P", "P83"), ("S96", "S96", "S", "S96"),
            ("T9700", "T9700", "T", "T97"),
        ] as [(String, String, Character, String)])
    func valid(text: String, value: String, section: Character, division: String) throws {
        let code = try IndustryCode(validating: text)
        #expect(code.value == value)
        #expect(code.section == section)
        #expect(code.division == division)
    }

    @Test(
        "rejections",
        arguments: [
            ("C4411", IdentifierError.Code.division, "industry division C44 is not in section C (13–43)"),
            ("C12", .division, "industry division C12 is not in section C (13–43)"),
            ("A06", .division, "industry division A06 is not in section A (01–05)"),
            ("K71", .division, "industry division K71 is not in section K (70)"),
            ("A00", .division, "industry division A00 is not in section A (01–05)"),
            ("U01", .format, "industry code 'U01' does not start with a section letter A–T"),
            ("3011", .format, "industry code '3011' does not start with a section letter A–T"),
            ("", .format, "industry code '' does not start with a section letter A–T"),
            ("C3", .format, "industry code 'C3' must have 2 to 4 digits after the section letter"),
            ("C30111", .format, "industry code 'C30111' must have 2 to 4 digits after the section letter"),
            ("C3O1", .format, "industry code 'C3O1' must have 2 to 4 digits after the section letter"),
        ])
    func rejection(text: String, code: IdentifierError.Code, reason: String) {
        #expect(throws: IdentifierError(code, reason)) { try IndustryCode(validating: text) }
    }

    @Test("the division table covers 97 divisions")
    func divisionTable() {
        #expect(IndustryCode.divisions.count == 20)
        #expect(IndustryCode.divisions.values.map(\.count).reduce(0, +) == 97)
    }
}

@Suite("Party identifiers (USCC or ID number)")
struct PartyIdentifierTests {
    @Test("classified by shape and check character")
    func classify() throws {
        #expect(
            try PartyIdentifier.classify("91350100M000100Y43") == .enterprise(USCC(validating: "91350100M000100Y43")))
        #expect(
            try PartyIdentifier.classify("914403001922038216") == .enterprise(USCC(validating: "914403001922038216")))
        #expect(
            try PartyIdentifier.classify("11010519491231002x") == .person(ResidentID(validating: "11010519491231002X")))
        #expect(try PartyIdentifier.classify("11010519491231002X").value == "11010519491231002X")
        #expect(try PartyIdentifier.classify("11010519491231002X").kind == .person)
    }

    @Test("a text valid as both kinds is settled by the hint, else by a leading 9")
    func ambiguous() throws {
        // Valid USCCs whose digits also form a valid ID number (born 1990-01-01).
        let nine = "914306199001010299"
        let twelve = "124306199001011294"
        for text in [nine, twelve] {
            #expect((try? USCC(validating: text)) != nil)
            #expect((try? ResidentID(validating: text)) != nil)
        }
        #expect(try PartyIdentifier.classify(nine).kind == .enterprise)
        #expect(try PartyIdentifier.classify(nine, hint: .person).kind == .person)
        #expect(try PartyIdentifier.classify(twelve).kind == .person)
        #expect(try PartyIdentifier.classify(twelve, hint: .enterprise).kind == .enterprise)
    }

    @Test(
        "rejections",
        arguments: [
            ("123", IdentifierError.Code.length, "USCC or ID number must have 18 characters, got 3"),
            ("11010519491231002", .length, "USCC or ID number must have 18 characters, got 17"),
            (
                "110105199003071230", .checkCharacter,
                "neither a valid USCC (USCC check character is '0', expected 'W') nor a valid ID number (ID number check character is '0', expected '9')"
            ),
            (
                "110105194912310021", .checkCharacter,
                "neither a valid USCC (USCC check character is '1', expected 'B') nor a valid ID number (ID number check character is '1', expected 'X')"
            ),
            ("91350100M000100Y44", .checkCharacter, "USCC check character is '4', expected '3'"),
            ("9135I100M000100Y43", .character, "USCC character 'I' at position 5 is not in the GB 32100 alphabet"),
        ])
    func rejection(text: String, code: IdentifierError.Code, reason: String) {
        #expect(throws: IdentifierError(code, reason)) { try PartyIdentifier.classify(text) }
    }
}

@Suite("Enterprise name normalisation")
struct EnterpriseNameTests {
    @Test(
        "examples",
        arguments: [
            ("长沙市某某科技有限公司", "长沙市某某科技"),
            (" 长沙（湘江）ａｂｃ 科技 有限公司 ", "长沙(湘江)ABC科技"),
            ("湖南某某股份有限公司", "湖南某某"),
            ("湖南某某有限责任公司", "湖南某某"),
            ("湖南某某公司", "湖南某某"),
            ("某某　有限公司\t", "某某"),
            ("Acme Trading Co., Ltd.", "ACMETRADINGCO.,LTD."),
            ("ＡＢＣ（中国）投资有限公司", "ABC(中国)投资"),
            ("有限公司", "有限公司"),
            ("湖南某某集团有限公司长沙分公司", "湖南某某集团有限公司长沙分"),
            ("长沙某某\u{200B}餐饮店", "长沙某某餐饮店"),
            ("", ""),
        ])
    func normalized(name: String, expected: String) {
        #expect(EnterpriseName.normalized(name) == expected)
    }

    @Test("spellings of one enterprise meet")
    func spellings() {
        let registered = EnterpriseName.normalized("长沙某某(集团)有限责任公司")
        #expect(EnterpriseName.normalized("长沙 某某（集团）有限公司") == registered)
        #expect(EnterpriseName.normalized("长沙某某（集团）公司") == registered)
        #expect(registered == "长沙某某(集团)")
    }
}

@Suite struct PersonalDataTests {
    @Test func maskingShowsWhatTheRulesAllow() {
        #expect(PersonalData.idNumber.mask("43060219800101123X") == "430***********123X")
        #expect(PersonalData.phone.mask("13812345678") == "138****5678")
        #expect(PersonalData.name.mask("欧阳明") == "欧*")
        #expect(PersonalData.name.mask("张") == "张*")
        #expect(PersonalData.name.mask("") == "")
        #expect(PersonalData.idNumber.mask("1234567") == "*******")
    }

    @Test func theCatalogNamesPersonalFieldsAndIDNumbersAlwaysAre() throws {
        let catalog = Shipped.catalog
        #expect(catalog.personalFields["market.enterprise"] == ["legal_rep_name": .name, "legal_rep_id": .idNumber])
        #expect(catalog.personalFields["court.dishonest"] == ["id_number": .idNumber, "name": .name])
        #expect(catalog.personalFields["traffic.driver"]?["id_number"] == .idNumber)
        #expect(catalog.personalFields["tax.payment"] == nil)
    }

    /// A court listing's name is a person's only when the party is a person.
    @Test func aPartysNameIsMaskedOnAPersonsRowOnly() throws {
        let fields = PersonalFields(Shipped.catalog)
        let person: [String: JSONValue] = [
            "party_type": .string("person"), "name": .string("欧阳明"), "id_number": .string("430602198001011230"), "court": .string("邵阳中院"),
        ]
        #expect(fields.mask(person, topic: "court.dishonest") == [
            "party_type": .string("person"), "name": .string("欧*"), "id_number": .string("430***********1230"), "court": .string("邵阳中院"),
        ])
        let enterprise: [String: JSONValue] = ["party_type": .string("enterprise"), "name": .string("邵阳恒通贸易有限公司"), "uscc": .null]
        #expect(fields.mask(enterprise, topic: "court.enforcement") == enterprise)
        let unknownParty: [String: JSONValue] = ["name": .string("欧阳明")]
        #expect(fields.mask(unknownParty, topic: "court.dishonest") == ["name": .string("欧*")], "masked unless known to be an enterprise")
        #expect(fields.mask(["amount": .number(5)], topic: "tax.payment") == ["amount": .number(5)])
    }
}

extension PersonalDataTests {
    /// A legal representative's name read by a feature is masked in the alert's explanation and
    /// values (banks read them); the count of changes of it is not personal.
    @Test func aPersonsNameInAnExplanationIsMasked() throws {
        let program = ShippedRules.program
        #expect(program.personalFeatures == ["legal_rep_name": .name])
        func record(_ topic: String, _ key: String, _ day: Day, _ name: String) -> FactRecord {
            FactRecord(topic: topic, key: key, eventDay: day, fields: ["legal_rep_name": .string(name)])
        }
        let h = "market.enterprise#history"
        let records = [
            record("market.enterprise", "91X", Day(year: 2024, month: 4, day: 1)!, "王五"),
            record(h, "91X@2019-06-01", Day(year: 2019, month: 6, day: 1)!, "张三"),
            record(h, "91X@2023-12-01", Day(year: 2023, month: 12, day: 1)!, "李四"),
            record(h, "91X@2024-04-01", Day(year: 2024, month: 4, day: 1)!, "王五"),
        ]
        let evaluation = program.evaluate(EntityData(
            entity: "91430600MA4L0XXXX0", asOf: Day(year: 2024, month: 5, day: 15)!, records: Dictionary(grouping: records, by: \.topic)))
        let firing = try #require(evaluation.firings.first { $0.rule == "legal_rep_frequent_change" })
        #expect(firing.explanation == "近12个月法定代表人变更 2 次，现任法定代表人 王*")
        #expect(!firing.values.contains { $0.value == .string("王五") })
        #expect(firing.values.first { $0.name == "legal_rep_changes_12mo" }?.value == .number(2))
        // The evaluation itself keeps the value (rule tests compare it); displays mask it.
        #expect(evaluation.features["legal_rep_name"] == .string("王五"))
    }
}
