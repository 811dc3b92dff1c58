import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments

/// The clinician pages: in the language each user chose (`web/i18n/clinician-*.json`; bokmål until they choose),
/// the same stylesheet and security headers as the patient pages, and a navigation that shows only what the role
/// may use.
extension PageRenderer {
    /// The clinician's texts: their chosen language, bokmål for anyone else (the login page).
    func clinicianTexts(for clinician: Clinician?) -> ClinicianTexts {
        let language = clinician?.language.flatMap(Language.init(rawValue:)) ?? .nb
        return ClinicianTexts(language: language, pack: clinicianTexts[language] ?? [:])
    }

    /// `back` is the page the language switch returns to (a GET page: the form's own page, not where it posts);
    /// `notice` confirms a save that led here (`SavedNotice`).
    func clinicianPage(
        _ template: String, title: String, context: [String: Any], clinician: Clinician?, csrf: String, back: String = "/",
        notice: SavedNotice? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        let t = clinicianTexts(for: clinician)
        var full: [String: Any] = ["lang": t.language.rawValue, "pageTitle": title, "csrf": csrf, "t": t.pack]
        // Only set when there is one: an empty text would still render its box.
        if let notice { full["notice"] = t[notice.textKey] }
        if let clinician {
            full["user"] = ["name": clinician.username, "role": t.role(clinician.role)]
            full["languageBack"] = back
            full["uiLanguages"] = Language.allCases.map { code -> [String: Any] in
                ["code": code.rawValue, "name": PageRenderer.languageName(code), "current": code == t.language]
            }
            var nav: [[String: Any]] = [["url": "/", "label": t["navCourses"]]]
            if clinician.role.treatsPatients {
                nav.append(["url": "/registrer", "label": t["navEnrol"]])
                nav.append(["url": "/oppfolging", "label": t["navWorklist"]])
            }
            nav.append(["url": "/invitasjoner", "label": t["navInvitations"]])
            nav.append(["url": "/oversikt", "label": t["navDashboard"]])
            full["nav"] = nav.map { item -> [String: Any] in
                var item = item
                item["current"] = (item["label"] as? String) == title
                return item
            }
        }
        full.merge(context) { _, new in new }
        return html(template, full, status: status, headers: [.cacheControl: "no-store"])
    }

    /// A message page; `heading` and `body` are keys of the clinician pack (`values` fill the body's `{name}`s).
    func clinicianMessage(
        _ heading: String, _ body: String, values: [String: String] = [:], status: HTTPResponse.Status, clinician: Clinician?,
        csrf: String
    ) -> Response {
        let t = clinicianTexts(for: clinician)
        return clinicianPage(
            "clinician-message", title: t[heading], context: ["heading": t[heading], "body": t(body, values)], clinician: clinician,
            csrf: csrf, status: status)
    }
}

/// One language's clinician texts, by key (a key missing from the pack shows as itself; start-up checks that every
/// pack has the keys of `clinician-nb.json`).
struct ClinicianTexts: Sendable {
    let language: Language
    let pack: [String: String]

    subscript(_ key: String) -> String { pack[key] ?? key }

    /// The text with each `{name}` replaced by its value.
    func callAsFunction(_ key: String, _ values: [String: String] = [:]) -> String {
        values.reduce(self[key]) { text, value in text.replacingOccurrences(of: "{\(value.key)}", with: value.value) }
    }

    /// `prefix` + the raw value with its first letter capitalised, or the raw value itself when the pack has no such key.
    private func named(_ prefix: String, _ raw: String) -> String {
        pack[prefix + raw.prefix(1).uppercased() + raw.dropFirst()] ?? raw
    }

    func role(_ role: Role) -> String {
        switch role {
        case .behandler: return self["roleBehandler"]
        case .kvarusKontakt: return self["roleKvarusKontakt"]
        case .registerkontakt: return self["roleRegisterkontakt"]
        case .registryAdmin: return self["roleRegistryAdmin"]
        }
    }

    /// An invitation's or a course's state (`stateCompleted`, `stateBrokenOff`, …).
    func state(_ raw: String) -> String { named("state", raw) }

    /// A pathway event (`eventFirstAttendance`, …).
    func event(_ raw: String) -> String { named("event", raw) }

    /// Why an enrolment field was refused (the services' reasons are English, for the API).
    func inputProblem(_ field: String) -> String {
        switch field {
        case "identityNumber": return self["problemIdentityNumber"]
        case "email": return self["problemEmail"]
        case "mobile": return self["problemMobile"]
        case "language": return self["problemLanguage"]
        case "birthDate": return self["problemDate"]
        default: return self["problemInvalid"]
        }
    }

    /// A course type in words: `D01 – TSB: …` (the code, then what it means).
    func courseType(_ type: CourseType) -> String { "\(type.rawValue) – \(self["courseType\(type.rawValue)"])" }

    /// Why a pathway event was refused.
    func pathway(_ error: PathwayError) -> String {
        switch error.kind {
        case .duplicate: return self["pathwayDuplicate"]
        case .outOfOrder: return self["pathwayOutOfOrder"]
        case .invalid where error.field == "date": return self["pathwayDate"]
        case .invalid: return self["pathwayInvalid"]
        }
    }

    /// `3. mars 2026` (`3 March 2026` in English) in Oslo time.
    func date(_ instant: Date) -> String { date(OsloTime.date(of: instant)) }

    /// A calendar date the same way.
    func date(_ d: LocalDate) -> String {
        let months = self["months"].split(separator: ",").map(String.init)
        let month = months.count == 12 ? months[max(0, min(11, d.month - 1))] : String(d.month)
        return self("dateFormat", ["day": String(d.day), "month": month, "year": String(d.year)])
    }

    /// The words the charts add around the labels.
    var chartLabels: ChartLabels {
        ChartLabels(
            norm: self["chartNorm"], normInText: self["chartNormInText"], at: self["chartAt"], missing: self["chartMissing"],
            noValues: self["chartNoValues"], notComparable: self["chartNotComparable"], noNormOnFile: self["chartNoNormOnFile"],
            decimalSeparator: self["chartDecimalSeparator"])
    }
}
