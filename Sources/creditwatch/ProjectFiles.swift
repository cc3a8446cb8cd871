import CreditWatchCore
import Foundation
import RuleLanguage

/// Reads the analyst-edited folders: the topic catalog and the rule set. The only file I/O of
/// the catalog and the language, which themselves stay pure.
enum ProjectFiles {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Every file with one of `extensions` directly in `directory` (or the file itself), sorted by path.
    static func read(_ path: String, extensions: Set<String>) throws -> [(path: String, text: String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure(description: "\(path): no such file or directory")
        }
        let paths: [String]
        if isDirectory.boolValue {
            paths = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { extensions.contains(($0 as NSString).pathExtension) }
                .sorted()
                .map { (path as NSString).appendingPathComponent($0) }
        } else {
            paths = [path]
        }
        return try paths.map { file in
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure(description: "\(file): cannot read")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw Failure(description: "\(file): not UTF-8 text")
            }
            return (file, text)
        }
    }

    static func catalog(at path: String) throws -> TopicCatalog {
        let files = try read(path, extensions: ["yaml", "yml"])
        if files.isEmpty { throw Failure(description: "\(path): no topic files (*.yaml)") }
        return try TopicCatalog.parse(files)
    }

    /// Compiles the rule set; on failure the error's description is the rendered diagnostics
    /// (`file:line:col: error: …` with the source line and a caret).
    static func program(at path: String, catalog: TopicCatalog, overrides: [String: Double] = [:]) throws -> RuleProgram {
        try program(files: try ruleFiles(at: path), catalog: catalog, overrides: overrides)
    }

    /// The rule files (`*.cwr`) of a folder; at least one.
    static func ruleFiles(at path: String) throws -> [(path: String, text: String)] {
        let files = try read(path, extensions: ["cwr"])
        if files.isEmpty { throw Failure(description: "\(path): no rule files (*.cwr)") }
        return files
    }

    /// Compiles rule files read from a folder or from a stored rule set.
    static func program(files: [(path: String, text: String)], catalog: TopicCatalog, overrides: [String: Double] = [:]) throws -> RuleProgram {
        let sources = files.map { SourceFile(path: $0.path, text: $0.text) }
        switch RuleCompiler.compile(sources, schema: catalog.schema, overrides: overrides) {
        case .success(let program): return program
        case .failure(let diagnostics): throw Failure(description: diagnostics.rendered(sources: sources))
        }
    }
}
