import Foundation

/// The dashboard's files, read once at start: the pages of `Web/` (shipped with the binary as its
/// resource bundle, `creditwatch_Dashboard.resources`) and ECharts, which is not committed but
/// taken from the PyPI wheel at install time (`ops/install.sh` puts it in `.deps/web`).
public struct DashboardSite: Sendable {
    public struct Asset: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
        public init(bytes: [UInt8], contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
        }
    }

    /// File name → content (`index.html`, `app.js`, …, `echarts.min.js`).
    public let assets: [String: Asset]
    /// What could not be found, for the log and for the page that needs it.
    public let problems: [String]

    public init(assets: [String: Asset], problems: [String]) {
        self.assets = assets
        self.problems = problems
    }

    /// The ECharts file ECharts' own name is served under.
    public static let echartsName = "echarts.min.js"

    /// Reads the pages from `webDirectory` (nil: the resource bundle next to the executable, else
    /// this source tree's `Web/`) and ECharts from `echarts`.
    public static func load(webDirectory: String? = nil, echarts: String) -> DashboardSite {
        var problems: [String] = []
        var assets: [String: Asset] = [:]
        let directory = webDirectory ?? defaultWebDirectory()
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for name in names.sorted() {
                guard let type = contentType(of: name), let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
                assets[name] = Asset(bytes: Array(data), contentType: type)
            }
        }
        if assets["index.html"] == nil { problems.append("dashboard pages not found in \(directory)") }
        if let data = FileManager.default.contents(atPath: echarts) {
            assets[echartsName] = Asset(bytes: Array(data), contentType: "text/javascript; charset=utf-8")
        } else {
            problems.append("ECharts not found at \(echarts) (ops/install.sh puts it there; or set dashboard.echarts)")
        }
        return DashboardSite(assets: assets, problems: problems)
    }

    /// The resource bundle SwiftPM builds next to the executable; the source tree when run from it.
    static func defaultWebDirectory() -> String {
        let bundled = Bundle.main.bundleURL.appendingPathComponent("creditwatch_Dashboard.resources/Web").path
        if FileManager.default.fileExists(atPath: bundled + "/index.html") { return bundled }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Web").path
    }

    static func contentType(of name: String) -> String? {
        switch (name as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: nil
        }
    }
}
