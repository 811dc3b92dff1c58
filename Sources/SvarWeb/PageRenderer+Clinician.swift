import Foundation
import Hummingbird
import SvarDomain

/// The clinician pages: Norwegian bokmål (their users' working language), the same stylesheet and security
/// headers as the patient pages, and a navigation that shows only what the role may use.
extension PageRenderer {
    func clinicianPage(
        _ template: String, title: String, context: [String: Any], clinician: Clinician?, csrf: String,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var full: [String: Any] = ["lang": "nb", "pageTitle": title, "csrf": csrf]
        if let clinician {
            full["user"] = ["name": clinician.username, "role": RoleText.label(clinician.role)]
            var nav: [[String: Any]] = [["url": "/", "label": "Forløp"]]
            if clinician.role.treatsPatients {
                nav.append(["url": "/registrer", "label": "Registrer pasient"])
                nav.append(["url": "/oppfolging", "label": "Oppfølging"])
            }
            nav.append(["url": "/invitasjoner", "label": "Invitasjoner"])
            nav.append(["url": "/oversikt", "label": "Svarprosent"])
            full["nav"] = nav.map { item -> [String: Any] in
                var item = item
                item["current"] = (item["label"] as? String) == title
                return item
            }
        }
        full.merge(context) { _, new in new }
        return html(template, full, status: status, headers: [.cacheControl: "no-store"])
    }

    func clinicianMessage(_ heading: String, _ body: String, status: HTTPResponse.Status, clinician: Clinician?, csrf: String) -> Response {
        clinicianPage(
            "clinician-message", title: heading, context: ["heading": heading, "body": body], clinician: clinician, csrf: csrf,
            status: status)
    }
}

/// Bokmål labels for the clinician pages.
enum RoleText {
    static func label(_ role: Role) -> String {
        switch role {
        case .behandler: return "behandler"
        case .kvarusKontakt: return "Kvarus-kontakt"
        case .registerkontakt: return "registerkontakt"
        case .registryAdmin: return "registeradministrator"
        }
    }

    static func milestone(_ id: String) -> String {
        ["baseline": "Oppstart", "evaluation": "Evaluering", "end": "Avslutning", "followUp1y": "Oppfølging etter ett år"][id] ?? id
    }

    static func state(_ raw: String) -> String {
        [
            "scheduled": "Planlagt", "invited": "Invitert", "reminded": "Påminnet", "opened": "Åpnet", "completed": "Besvart",
            "expired": "Utløpt", "declined": "Avslått", "unreachable": "Ikke nådd", "cancelled": "Avbrutt",
            "active": "Aktivt", "ended": "Avsluttet", "brokenOff": "Avbrutt",
        ][raw] ?? raw
    }

    static func event(_ raw: String) -> String {
        [
            "start": "Start", "firstAttendance": "Første oppmøte", "clinicalDecision": "Klinisk beslutning", "evaluation": "Evaluering",
            "transfer": "Overføring", "end": "Avslutning", "breakOff": "Avbrudd",
        ][raw] ?? raw
    }

    /// Why an enrolment field was refused, in bokmål (the services' reasons are English, for the API).
    static func inputProblem(_ field: String) -> String {
        [
            "identityNumber": "er ikke et gyldig fødselsnummer, D-nummer eller H-nummer – sjekk sifrene",
            "email": "er ikke en gyldig e-postadresse", "mobile": "skriv 8 sifre, eller + og 8–15 sifre (for eksempel +4791234567)",
            "language": "velg bokmål, nynorsk eller engelsk", "birthDate": "skriv datoen som ÅÅÅÅ-MM-DD",
        ][field] ?? "er ikke gyldig"
    }

    /// Why a pathway event was refused, in bokmål.
    static func pathway(_ error: PathwayError) -> String {
        switch error.kind {
        case .duplicate: return "hendelsen er allerede registrert i forløpet."
        case .outOfOrder: return "hendelsen passer ikke inn i forløpet slik det er registrert (for eksempel etter avslutning)."
        case .invalid where error.field == "date": return "datoen kan ikke være i fremtiden eller mer enn 20 år tilbake."
        case .invalid: return "opplysningene er ikke gyldige."
        }
    }

    /// `3. mars 2026` in Oslo time.
    static func date(_ instant: Date) -> String {
        let d = OsloTime.date(of: instant)
        let months = [
            "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember",
        ]
        return "\(d.day). \(months[max(0, min(11, d.month - 1))]) \(d.year)"
    }
}
