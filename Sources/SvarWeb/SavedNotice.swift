import Hummingbird

/// What a clinician page says after a save. Every form redirects (post/redirect/get) to a page with
/// `?lagret=<code>`, and that page shows the matching sentence in a status box: the clinician sees that it worked
/// without JavaScript. Only these codes mean anything, so a link cannot put words of its own on a page.
enum SavedNotice: String, CaseIterable, Sendable {
    case enrolled = "registrert"
    case courseAdded = "nytt-forlop"
    case event = "hendelse"
    case contacted = "kontaktet"

    /// The key of its sentence in the clinician packs (`savedEnrolled`, …).
    var textKey: String {
        switch self {
        case .enrolled: return "savedEnrolled"
        case .courseAdded: return "savedCourseAdded"
        case .event: return "savedEvent"
        case .contacted: return "savedContacted"
        }
    }

    /// `path?lagret=code#fragment`.
    func location(_ path: String, fragment: String? = nil) -> String {
        "\(path)?lagret=\(rawValue)" + (fragment.map { "#\($0)" } ?? "")
    }

    /// The notice a page was sent to show, if any.
    static func shown(in request: Request) -> SavedNotice? {
        request.uri.queryParameters.get("lagret").flatMap { SavedNotice(rawValue: String($0)) }
    }

    /// The page context that shows it (nothing when there is none: an empty text would still render its box).
    static func context(_ request: Request, _ t: ClinicianTexts) -> [String: Any] {
        guard let notice = shown(in: request) else { return [:] }
        return ["notice": t[notice.textKey]]
    }
}
