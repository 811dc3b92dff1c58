import Foundation
import Hummingbird

/// What a clinician asked a list to show: search words, filters, the sort order and the page. The list's form is
/// posted (with the session's CSRF token), so a search — an identity number or a name — never lands in a URL, a
/// proxy's access log or the browser's history; filters, sort and page also work as query parameters, so the
/// pager's links and a bookmark open without a search. Unknown values fall back to the defaults rather than
/// failing, so an old bookmark still opens.
struct ListQuery: Sendable {
    var search: String
    var unit: String?
    var state: String?
    var milestone: String?
    var sort: String
    var page: Int
    static let pageSize = 50

    /// The posted form on a POST, else the query string (where a search is ignored: it is never put in a URL).
    static func read(_ request: Request, sorts: [String]) async throws -> ListQuery {
        if request.method == .post {
            return ListQuery(try await FormBody.read([String: String].self, from: request), sorts: sorts, searches: true)
        }
        var fields: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { fields[String(name)] = String(value) }
        return ListQuery(fields, sorts: sorts, searches: false)
    }

    init(_ fields: [String: String], sorts: [String], searches: Bool) {
        func value(_ name: String) -> String? {
            fields[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        }
        search = searches ? value("sok") ?? "" : ""
        unit = value("enhet")
        state = value("status")
        milestone = value("skjema")
        sort = value("sorter").flatMap { sorts.contains($0) ? $0 : nil } ?? sorts.first ?? ""
        page = value("side").flatMap(Int.init).map { max(1, min($0, 10_000)) } ?? 1
    }

    var isFiltered: Bool { !search.isEmpty || unit != nil || state != nil || milestone != nil }

    /// One page of `rows`, and the words and links around it. A search shows every match on one page (its words
    /// cannot travel in a pager's link).
    func paged<Row>(_ rows: [Row], path: String, _ t: ClinicianTexts) -> (rows: [Row], context: [String: Any]) {
        let pageSize = search.isEmpty ? Self.pageSize : max(rows.count, 1)
        let pages = max(1, (rows.count + pageSize - 1) / pageSize)
        let page = min(self.page, pages)
        let slice = Array(rows.dropFirst((page - 1) * pageSize).prefix(pageSize))
        var context: [String: Any] = [
            "count": rows.isEmpty
                ? t("listShowingNone")
                : t(
                    "listShowing",
                    [
                        "from": String((page - 1) * pageSize + 1), "to": String((page - 1) * pageSize + slice.count),
                        "total": String(rows.count),
                    ]),
            "isFiltered": isFiltered, "clearURL": path,
        ]
        if page > 1 { context["previousURL"] = link(path, page: page - 1) }
        if page < pages { context["nextURL"] = link(path, page: page + 1) }
        return (slice, context)
    }

    /// This query on another page (without the search, which never goes into a URL).
    func link(_ path: String, page: Int) -> String {
        var items: [URLQueryItem] = []
        for (name, value) in [("enhet", unit), ("status", state), ("skjema", milestone), ("sorter", sort)] {
            if let value, !value.isEmpty { items.append(URLQueryItem(name: name, value: value)) }
        }
        items.append(URLQueryItem(name: "side", value: String(page)))
        var components = URLComponents(string: path) ?? URLComponents()
        components.queryItems = (components.queryItems ?? []) + items
        return components.string ?? path
    }

    /// Options for a `<select>`: the empty "all" choice first, then each value, the chosen one selected.
    static func options(_ values: [(value: String, label: String)], chosen: String?, all: String) -> [[String: Any]] {
        [["value": "", "label": all, "selected": chosen == nil]]
            + values.map { ["value": $0.value, "label": $0.label, "selected": $0.value == chosen] }
    }
}
