import CreditWatchCore
import Foundation

/// The repository's `topics/` folder, read once for all tests.
enum Shipped {
    static let topicsDirectory = URL(filePath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "topics")

    static let files: [(path: String, text: String)] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: topicsDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { name in
            (
                path: "topics/\(name)",
                text: (try? String(contentsOf: topicsDirectory.appending(path: name), encoding: .utf8)) ?? ""
            )
        }
    }()

    static let catalog: TopicCatalog = {
        do {
            return try TopicCatalog.parse(files)
        } catch {
            fatalError("shipped catalog does not parse:\n\(error)")
        }
    }()

    static let decoder = ChangeDecoder(catalog: catalog)
}
