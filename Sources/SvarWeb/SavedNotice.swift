import Hummingbird

/// What a clinician page says after a save. Every form redirects (post/redirect/get) to a page with
/// `?lagret=<code>`, and that page shows the matching sentence in a status box: the clinician sees that it worked
/// without JavaScript. Only these codes mean anything, so a link cannot put words of its own on a page.
enum SavedNotice: String, CaseIterable, Sendable {
    case enrolled = "registrert"
    case courseAdded = "nytt-forlop"
    case event = "hendelse"
    case contacted = "kontaktet"
    case language = "sprak"
    case safetySeen = "sett"

    /// The key of its sentence in the clinician packs (`savedEnrolled`, …).
    var textKey: String {
        switch self {
        case .enrolled: return "savedEnrolled"
        case .courseAdded: return "savedCourseAdded"
        case .event: return "savedEvent"
        case .contacted: return "savedContacted"
        case .language: return "savedLanguage"
        case .safetySeen: return "savedSafetySeen"
        }
    }

    /// `path?lagret=code#fragment` (`&lagret=` when the path has a query already).
    func location(_ path: String, fragment: String? = nil) -> String {
        path + (path.contains("?") ? "&" : "?") + "lagret=\(rawValue)" + (fragment.map { "#\($0)" } ?? "")
    }

    /// The notice a page was sent to show, if any.
    static func shown(in request: Request) -> SavedNotice? {
        request.uri.queryParameters.get("lagret").flatMap { SavedNotice(rawValue: String($0)) }
    }
}
