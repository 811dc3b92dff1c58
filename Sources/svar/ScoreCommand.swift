import ArgumentParser
import Foundation
import SvarAssets
import SvarInstruments
import SvarRegistry

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score one JSON object of answers from standard input and print the scores as JSON.",
        discussion: """
            Input: rand36 {"1":3,"2":2,…,"36":4}; eq5d-5l / eq5d-3l {"MO":1,"SC":2,"UA":3,"PD":4,"AD":5,"VAS":70}.
            A missing key or null is an unanswered item. Invalid input prints an error naming the field on
            standard error and exits with status 1.
            With --batch, reads NDJSON (one object per line) and prints one result or one {"error":…} per line.
            --reference scores every batch line through the straightforward path, for checks (same output).
            """
    )

    @Argument(help: "Instrument id: rand36, eq5d-5l, eq5d-3l, kvarus-followup.")
    var instrument: String?

    @Option(name: .long, help: "EQ-5D value set id (default: the instrument's default; see --list-value-sets).")
    var valueSet: String?

    @Flag(name: .long, help: "Read NDJSON and write NDJSON; a bad line gives an error line, not a stop.")
    var batch = false

    @Flag(name: .long, help: "With --batch: score every line through the straightforward path, for checks (same output, slower).")
    var reference = false

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Print the FHIR R4 transaction Bundle a registry would receive for this response (patient named by a placeholder "
                + "pseudonym) instead of the scores.")
    )
    var fhir = false

    @Flag(name: .long, help: "List the value-set ids, one per line, with their instrument and name (only INSTRUMENT's, if given).")
    var listValueSets = false

    func run() throws {
        let catalogue: InstrumentCatalogue
        do {
            catalogue = try InstrumentLoader.catalogue(try AssetDirectories.resolve())
        } catch {
            throw fail("\(error)")
        }
        if listValueSets {
            if let id = instrument, catalogue.instrument(id) == nil {
                throw fail("INSTRUMENT: unknown instrument '\(id)' (known: \(catalogue.instruments.map(\.id).joined(separator: ", ")))")
            }
            for (instrumentId, set) in catalogue.valueSets where instrument == nil || instrument == instrumentId {
                print("\(set.id)\t\(instrumentId)\t\(set.name)\(set.isDefault ? " [default]" : "")")
            }
            return
        }
        guard let id = instrument else {
            throw fail("name an instrument (\(catalogue.instruments.map(\.id).joined(separator: ", "))), or use --list-value-sets")
        }
        guard let instrument = catalogue.instrument(id) else {
            throw fail("INSTRUMENT: unknown instrument '\(id)' (known: \(catalogue.instruments.map(\.id).joined(separator: ", ")))")
        }
        if let valueSet, !instrument.valueSets.contains(where: { $0.id == valueSet }) {
            let known = instrument.valueSets.map(\.id)
            throw fail(
                "--value-set: '\(valueSet)' is not a value set of \(id)"
                    + (known.isEmpty ? " (it has none)" : " (known: \(known.joined(separator: ", ")))"))
        }
        if batch, !reference, !fhir {
            BatchScoring(instrument: instrument, valueSet: valueSet).run(read: readStandardInput, write: writeStandardOutput)
        } else if batch {
            scoreBatch(instrument)
        } else {
            do {
                print(try scoreOne(instrument, withoutByteOrderMark(readAllStandardInput())).serialized)
            } catch {
                throw fail("\(error)")
            }
        }
    }

    private func scoreOne(_ instrument: Instrument, _ bytes: [UInt8]) throws -> JSONValue {
        let json = try JSONParser.parse(bytes)
        let answers = try instrument.checkAnswers(json)
        let score = try instrument.score(answers, valueSet: valueSet)
        guard fhir else { return ScoreReport.json(score, instrument: instrument) }
        let preview = ForwardedResponse(
            responseId: UUID().uuidString.lowercased(), patientId: "preview", invitationId: "preview", courseId: "preview", unit: "0",
            milestone: "preview", instrument: instrument.id, instrumentVersion: instrument.questionnaire.version, language: "nb",
            respondent: "patient", submittedAt: Date(), answersJSON: json.serialized, scores: score.stored)
        return try RegistryBundle.transaction(preview, subject: .pseudonym("preview"), instrument: instrument)
    }

    private func scoreBatch(_ instrument: Instrument) {
        var output = StandardOutputBuffer()
        var lineNumber = 0
        for line in StandardInputLines() {
            lineNumber += 1
            do {
                let bytes = lineNumber == 1 ? withoutByteOrderMark(Array(line)) : Array(line)
                output.writeLine(try scoreOne(instrument, bytes).serialized)
            } catch {
                output.writeLine(BatchScoring.errorLine(error, lineNumber: lineNumber))
            }
        }
        output.flush()
    }
}

/// Exports from spreadsheet tools often start with a UTF-8 byte-order mark; JSON readers may skip it.
func withoutByteOrderMark(_ bytes: [UInt8]) -> [UInt8] {
    bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
}
