import Access
import CreditWatchCore
import Foundation
import PostgresStore
import RuleLanguage

/// Who sees personal data (ID numbers, persons' names, phones) in clear, and the masking for
/// everyone else, by the catalog's personal fields. A clear read is audited before the data
/// leaves; without an audit log no one sees it in clear.
struct PersonalDataAccess: Sendable {
    let fields: PersonalFields
    let audit: (any AccessAdministration)?
    let access: StoreAccess

    /// Whether `principal` sees the subject's personal data in clear; if so, the read is in the
    /// audit log when this returns.
    func clear(for principal: Principal, subject: QuerySubject, action: String, context: APIRequestContext) async throws -> Bool {
        guard principal.mayReadPersonalData, let audit else { return false }
        let entry = AuditEntry(
            by: principal, action: action, outcome: .allowed, subjectKind: subject.kind, subjectID: subject.id,
            returned: #"{"personal_data":"clear"}"#, remoteAddress: context.remoteAddress)
        _ = try await access { try await audit.append(entry) }
        return true
    }

    /// The facts with every personal field masked, and record keys equal to `key` (a person's ID
    /// number as a record's primary key) masked as ID numbers.
    func masked(_ facts: [DepartmentFacts], key: String? = nil) -> [DepartmentFacts] {
        facts.map { department in
            var department = department
            department.topics = department.topics.map { topic in
                var topic = topic
                topic.records = topic.records.map { record in
                    var record = record
                    record.fields = masked(record.fields, topic: topic.topic)
                    if let key, record.key == key { record.key = PersonalData.idNumber.mask(key) }
                    return record
                }
                return topic
            }
            return department
        }
    }

    /// A record's fields with every personal field masked.
    func masked(_ fields: [String: JSONValue], topic: String) -> [String: JSONValue] {
        self.fields.mask(fields, topic: topic)
    }
}
