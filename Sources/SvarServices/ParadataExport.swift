import Foundation
import SvarDomain
import SvarInstruments
import SvarStore

/// The paradata file of an export: for each invitation, when each step was first shown and first saved — never
/// what was answered — so a registry sees where patients stop. Invitations are numbered within the file rather
/// than named by id, so the file links to nothing else; patients who reserved themselves or asked for deletion
/// are left out by the store.
public struct ParadataExport: Sendable {
    public let views: [StepView]
    public let catalogue: InstrumentCatalogue

    public init(views: [StepView], catalogue: InstrumentCatalogue) {
        self.views = views
        self.catalogue = catalogue
    }

    static let columns = [
        "invitation", "unit", "milestone", "invitation_state", "step", "steps_in_form", "step_instrument", "step_section", "first_shown",
        "first_saved",
    ]

    public var csv: String {
        var numbers: [String: Int] = [:]
        var out = CSV.line(Self.columns)
        for view in views {
            let number = numbers[view.invitationId] ?? (numbers.count + 1)
            numbers[view.invitationId] = number
            let steps = PatientAnswering.steps(view.instruments.compactMap { catalogue.instrument($0) })
            let step = steps.first { $0.number == view.step }
            out += CSV.line([
                String(number), view.unit, view.milestone, view.state, String(view.step), String(steps.count), step?.instrument.id ?? "",
                step?.group.linkId ?? "", OsloTime.iso8601(view.firstShown), view.firstSaved.map(OsloTime.iso8601) ?? "",
            ])
        }
        return out
    }

    /// One line per column: what it holds.
    public static var codebookCSV: String {
        let labels = [
            "Løpenummer for invitasjonen i denne filen (knytter stegene til én invitasjon, ingenting annet)",
            "RESH-id for enheten forløpet hører til", "Måletidspunkt (baseline, evaluation, end, followUp1y)",
            "Invitasjonens status da filen ble laget (f.eks. completed, expired, opened)",
            "Stegets nummer i skjemaet (1 = første side)", "Antall steg i skjemaet",
            "Skjemaet steget hører til (instrument-id)", "Seksjonen (gruppens linkId i Questionnaire)",
            "Første gang steget ble vist (ISO 8601, norsk tid)",
            "Første gang steget ble lagret (tomt: aldri lagret, pasienten stoppet her eller før)",
        ]
        return CSV.line(["variable", "label"]) + zip(columns, labels).map { CSV.line([$0, $1]) }.joined()
    }
}
