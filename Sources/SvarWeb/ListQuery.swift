import Foundation
import Hummingbird

/// What a clinician asked a list to show, from the query string of a plain GET form (works without JavaScript
/// and can be bookmarked): search words, filters, the sort order and the page. Unknown values fall back to the
/// defaults rather than failing, so an old bookmark still opens.
struct ListQuery: Sendable {
    var search: String
    var unit: String?
    var state: String?
    var milestone: String?
    var sort: String
    var page: Int
    static let pageSize = 50

    init(_ request: Request, sorts: [String]) {
        let q = request.uri.queryParameters
        func value(_ name: String) -> String? {
            q.get(name).map { String($0).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        }
        search = value("sok") ?? ""
        unit = value("enhet")
        state = value("status")
        milestone = value("skjema")
        sort = value("sorter").flatMap { sorts.contains($0) ? $0 : nil } ?? sorts.first ?? ""
        page = value("side").flatMap(Int.init).map { max(1, min($0, 10_000)) } ?? 1
    }

    var isFiltered: Bool { !search.isEmpty || unit != nil || state != nil || milestone != nil }

    /// One page of `rows`, and the words and links around it.
    func paged<Row>(_ rows: [Row], path: String, _ t: ClinicianTexts) -> (rows: [Row], context: [String: Any]) {
        let pages = max(1, (rows.count + Self.pageSize - 1) / Self.pageSize)
        let page = min(self.page, pages)
        let slice = Array(rows.dropFirst((page - 1) * Self.pageSize).prefix(Self.pageSize))
        var context: [String: Any] = [
            "count": rows.isEmpty
                ? t("listShowingNone")
                : t(
                    "listShowing",
                    [
                        "from": String((page - 1) * Self.pageSize + 1), "to": String((page - 1) * Self.pageSize + slice.count),
                        "total": String(rows.count),
                    ]),
            "isFiltered": isFiltered, "clearURL": path,
        ]
        if page > 1 { context["previousURL"] = link(path, page: page - 1) }
        if page < pages { context["nextURL"] = link(path, page: page + 1) }
        return (slice, context)
    }

    /// This query on another page.
    func link(_ path: String, page: Int) -> String {
        var items: [URLQueryItem] = []
        for (name, value) in [("sok", search), ("enhet", unit), ("status", state), ("skjema", milestone), ("sorter", sort)] {
            if let value, !value.isEmpty { items.append(URLQueryItem(name: name, value: value)) }
        }
        items.append(URLQueryItem(name: "side", value: String(page)))
        var components = URLComponents()
        components.path = path
        components.queryItems = items
        return components.string ?? path
    }

    /// Options for a `<select>`: the empty "all" choice first, then each value, the chosen one selected.
    static func options(_ values: [(value: String, label: String)], chosen: String?, all: String) -> [[String: Any]] {
        [["value": "", "label": all, "selected": chosen == nil]]
            + values.map { ["value": $0.value, "label": $0.label, "selected": $0.value == chosen] }
    }
}
