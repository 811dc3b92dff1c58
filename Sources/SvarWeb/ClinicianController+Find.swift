import Foundation
import SvarDomain
import SvarStore

/// Finding a patient in the lists: who they are (name and birth year, for roles that may see names; each read
/// audited by the store) and which patients a search names.
extension ClinicianController {
    /// The identities of `patients`, opened for roles that may see names (every read is audited with `purpose`);
    /// empty for the others.
    func people(of patients: Set<String>, _ clinician: Clinician, purpose: String) async throws -> [String: Identity] {
        guard clinician.role.seesNames else { return [:] }
        var out: [String: Identity] = [:]
        for patientId in patients.sorted() {
            guard let sealed = try await access.identity(of: patientId, for: .clinician(clinician), purpose: purpose, at: services.now())
            else { continue }
            out[patientId] = try services.vault.open(sealed, patientId: patientId)
        }
        return out
    }

    /// The patients among `candidates` that `search` names, or nil when there is no search. An identity number
    /// is looked up through the vault's keyed hash (never by opening identities); a pseudonym prefix matches
    /// the patient id; other words match names, for roles that may see them (the names of the candidates are
    /// opened in memory for this, each read audited as a name search).
    func patients(matching search: String, among candidates: Set<String>, _ clinician: Clinician) async throws -> Set<String>? {
        let words = search.trimmingCharacters(in: .whitespaces)
        guard !words.isEmpty else { return nil }
        let digits = words.filter { !$0.isWhitespace }
        if digits.count == 11, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
            guard clinician.role.seesNames else { return [] }
            let hash = services.vault.lookupHash(identityNumber: digits)
            let found = try await access.knownPatient(lookupHash: hash, for: .clinician(clinician))
            return found.map { candidates.contains($0) ? [$0] : [] } ?? []
        }
        let lowered = words.lowercased()
        if lowered.count >= 4, lowered.allSatisfy(\.isHexDigit) {
            return candidates.filter { $0.hasPrefix(lowered) }
        }
        guard clinician.role.seesNames, words.count >= 2 else { return [] }
        let people = try await people(of: candidates, clinician, purpose: "name search")
        return Set(people.filter { Self.name($0.value.name ?? "", matches: words) }.keys)
    }

    /// Every word of the search starts a word of the name, ignoring case and accents ("kari nord" finds "Kari
    /// Nordmann"; "ø" and "o" differ, as Norwegians read them).
    static func name(_ name: String, matches search: String) -> Bool {
        func words(_ s: String) -> [String] {
            s.folding(options: [.caseInsensitive, .widthInsensitive], locale: Locale(identifier: "nb_NO")).lowercased()
                .split(whereSeparator: { $0.isWhitespace || $0 == "-" }).map(String.init)
        }
        let nameWords = words(name)
        return words(search).allSatisfy { w in nameWords.contains { $0.hasPrefix(w) } }
    }

    /// "Kari Nordmann (1975)" for roles that see names, else the 8-character pseudonym. The year comes from the
    /// registered birth date only: the identity number no longer tells the century (numbers issued from 2032).
    func displayName(_ patientId: String, _ people: [String: Identity], _ t: ClinicianTexts) -> String {
        guard let person = people[patientId] else { return String(patientId.prefix(8)) }
        let name = person.name ?? t["nameMissing"]
        return person.birthDate.flatMap { LocalDate(iso: $0) }.map { "\(name) (\($0.year))" } ?? name
    }
}
