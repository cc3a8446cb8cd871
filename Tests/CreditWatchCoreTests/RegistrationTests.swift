import CreditWatchCore
import RuleLanguage
import Testing

@Suite("Registration of an enterprise")
struct RegistrationTests {
    @Test func divisionAndDistrictOfRegistrationFields() {
        let fields: [String: Value] = ["industry_code": .string("c3011"), "district_code": .string("430602")]
        #expect(Registration(registrationFields: fields) == Registration(division: "C30", district: "430602"))
    }

    @Test func unknownIndustryCodesAndEmptyDistrictsAreNil() {
        #expect(
            Registration(registrationFields: ["industry_code": .string("C4411"), "district_code": .string("")])
                == Registration(division: nil, district: nil))
        #expect(Registration(registrationFields: ["industry_code": .number(30)]) == Registration(division: nil, district: nil))
        #expect(Registration.topic == "market.enterprise")
    }
}
