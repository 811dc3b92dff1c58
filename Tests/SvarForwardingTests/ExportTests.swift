import Foundation
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarSQLite
import SvarServices
import SvarStore
import Testing

/// Hands every submission on to the local registry store and keeps the accepted ones: "what was forwarded".
final class RecordingTarget: RegistryTarget, @unchecked Sendable {
    let local: LocalRegistryStore
    private let lock = NSLock()
    private var kept: [RegistrySubmission] = []
    var recipient: String { local.recipient }
    var identityUse: IdentityUse { local.identityUse }
    var submissions: [RegistrySubmission] { lock.withLock { kept } }

    init(_ local: LocalRegistryStore) { self.local = local }

    func submit(_ submission: RegistrySubmission) async -> ForwardOutcome {
        let outcome = await local.submit(submission)
        if case .accepted = outcome { lock.withLock { kept.append(submission) } }
        return outcome
    }

    func erase(pseudonym: String, at: Date) async throws -> ErasureReport { try await local.erase(pseudonym: pseudonym, at: at) }
}

/// Answers that differ from patient to patient: codes and numbers spread over their range, some items left out.
func variedAnswers(_ instrument: Instrument, seed: Int) -> [String: Int] {
    var answers: [String: Int] = [:]
    for (j, question) in instrument.questionnaire.questions.enumerated() {
        if !instrument.id.hasPrefix("eq5d"), (seed + j) % 11 == 5 { continue }
        let codes = question.optionCodes.compactMap { Int($0) }
        if !codes.isEmpty {
            answers[question.linkId] = codes[(seed * 3 + j) % codes.count]
        } else if let low = question.minValue, let high = question.maxValue {
            answers[question.linkId] = low + (seed * 17 + j * 5) % (high - low + 1)
        }
    }
    return answers
}

/// Patients with one baseline invitation each, per unit: `answered` of them submit every instrument, the others
/// are only invited. Returns the fixture (for forwarding passes), the patient ids and the answered invitations per unit.
func population(
    _ units: [(resh: String, answered: Int, unanswered: Int)], instruments: [String] = ["rand36", "eq5d-5l", "kvarus-followup"]
)
    async throws -> (ForwardingFixture, patients: [String: [String]], answered: [String: [String]])
{
    let f = ForwardingFixture(store: try SQLiteStore(), vault: try IdentityVault(masterKey: Array(repeating: 7, count: 32)))
    var patients: [String: [String]] = [:]
    var answered: [String: [String]] = [:]
    var individual = 100
    var seed = 0
    for unit in units {
        try await f.store.createUnit(Unit(resh: unit.resh, name: "Unit \(unit.resh)"), actor: "test", at: t0)
        for k in 0..<(unit.answered + unit.unanswered) {
            seed += 1
            var number: String?
            while number == nil {
                individual += 1
                number = IdentityNumber.synthetic(birthDate: LocalDate(year: 1980, month: 1, day: 1 + seed % 28)!, individual: individual)
            }
            guard
                case .created(let patientId) = try await Enrolment(store: f.store, vault: f.vault, mode: .test)
                    .enrol(.init(identityNumber: number!, email: "p\(seed)@example.no", language: "nb"), actor: "test", at: t0)
            else {
                throw FixtureError.notCreated
            }
            let courseId = UUID().uuidString.lowercased()
            try await f.store.createCourse(
                NewCourse(id: courseId, patientId: patientId, unit: unit.resh, type: .D01), actor: "test", at: t0)
            let event = PathwayEvent(
                id: "start-\(courseId)", type: .start, date: OsloTime.date(of: t0), unit: unit.resh, recordedBy: "test")
            let plan = ScheduleProtocol.Plan(
                milestone: "baseline", instruments: instruments, triggerEventId: event.id,
                dueDate: OsloTime.date(of: t0), opensAt: t0, closesAt: t0 + 21 * 86_400, reminders: [])
            _ = try await f.store.recordEvent(courseId: courseId, event: event, restartingNudges: [], at: t0) { _, _ in [plan] }
            _ = try await f.store.openDue(now: t0, limit: 10)
            if k < unit.answered {
                let invitationId = try await f.store.course(courseId)?.invitations.first?.id ?? ""
                let responses = try instruments.map { id in try submitted(id, variedAnswers(catalogue.instrument(id)!, seed: seed)) }
                try await f.store.submit(
                    invitationId: invitationId, responses: responses, respondent: "patient",
                    language: ["nb", "nn", "en"][seed % 3], at: t0 + 3600 + TimeInterval(seed * 60))
                answered[unit.resh, default: []].append(invitationId)
            }
            patients[unit.resh, default: []].append(patientId)
        }
    }
    return (f, patients, answered)
}

/// RFC 4180 as a reader sees it: every record must end in CRLF.
func parseCSV(_ text: String) -> [[String]] {
    var records: [[String]] = []
    var record: [String] = []
    var field = ""
    var quoted = false
    let s = Array(text.unicodeScalars)
    var i = 0
    while i < s.count {
        let c = s[i]
        if quoted {
            if c == "\"", i + 1 < s.count, s[i + 1] == "\"" {
                field.unicodeScalars.append(c)
                i += 1
            } else if c == "\"" {
                quoted = false
            } else {
                field.unicodeScalars.append(c)
            }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            record.append(field)
            field = ""
        } else if c == "\r", i + 1 < s.count, s[i + 1] == "\n" {
            record.append(field)
            records.append(record)
            record = []
            field = ""
            i += 1
        } else {
            field.unicodeScalars.append(c)
        }
        i += 1
    }
    #expect(field.isEmpty && record.isEmpty, "the last record ends in CRLF")
    return records
}

/// The CSV as one dictionary per row, by header name.
func csvTable(_ url: URL) throws -> (header: [String], rows: [[String: String]]) {
    let records = parseCSV(try String(contentsOf: url, encoding: .utf8))
    let header = try #require(records.first)
    for record in records { #expect(record.count == header.count, "every row has as many fields as the header") }
    return (header, records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) })
}

func jsonArray(_ value: JSONValue?) -> [JSONValue] {
    if case .array(let items)? = value { return items }
    return []
}

/// What a forwarded score looks like in a file: exact decimal text, true/false, or nothing.
func exportCell(_ score: StoredScore?) -> String {
    score?.number ?? score?.flag.map { $0 ? "true" : "false" } ?? ""
}

@Suite struct ExportTests {
    /// Five patients at two units, each answering three instruments, forwarded to a fresh local registry store.
    func forwarded() async throws -> (ForwardingFixture, RecordingTarget, URL, [String: [String]]) {
        let (f, patients, _) = try await population([("4208", 3, 0), ("4209", 2, 0)])
        let (local, folder) = try f.localStore()
        let target = RecordingTarget(local)
        #expect(try await f.pass(target).run(now: t0 + 7200).forwarded == 15)
        return (f, target, folder, patients)
    }

    @Test func csvAndNDJSONRowsEqualWhatWasForwarded() async throws {
        let (_, target, folder, _) = try await forwarded()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sent = Dictionary(uniqueKeysWithValues: target.submissions.map { ($0.response.responseId, $0) })

        let csv = try await target.local.export(.csv, catalogue: catalogue, into: folder.appendingPathComponent("csv"), at: t0 + 9000)
        #expect(csv.rows == 15 && csv.pseudonyms.count == 5)
        #expect(csv.files == ["results-eq5d-5l.csv", "results-kvarus-followup.csv", "results-rand36.csv", "codebook.json", "codebook.csv"])
        var seen = Set<String>()
        for id in ["eq5d-5l", "kvarus-followup", "rand36"] {
            let (header, rows) = try csvTable(folder.appendingPathComponent("csv/results-\(id).csv"))
            let instrument = try #require(catalogue.instrument(id))
            #expect(
                Array(header.prefix(8)) == [
                    "pseudonym", "response_id", "unit", "milestone", "instrument_version", "submitted", "language", "respondent",
                ])
            #expect(header.filter { $0.hasPrefix("item_") } == instrument.questionnaire.questions.map { "item_\($0.linkId)" })
            #expect(rows.count == 5)
            for row in rows {
                let s = try #require(sent[row["response_id"] ?? ""], "every exported response was forwarded")
                seen.insert(s.response.responseId)
                let r = s.response
                #expect(r.instrument == id)
                #expect(
                    [
                        row["pseudonym"], row["unit"], row["milestone"], row["instrument_version"], row["submitted"], row["language"],
                        row["respondent"],
                    ]
                        == [
                            s.pseudonym, r.unit, r.milestone, r.instrumentVersion, OsloTime.iso8601(r.submittedAt), r.language,
                            r.respondent,
                        ])
                let answers = try JSONParser.parse(r.answersJSON)
                for question in instrument.questionnaire.questions {
                    let expected: String = if case .number(let text)? = answers[question.linkId] { text } else { "" }
                    #expect(row["item_\(question.linkId)"] == expected, "\(id) item \(question.linkId)")
                }
                for score in r.scores { #expect(row["score_\(score.key)"] == exportCell(score), "\(id) score \(score.key) exact") }
                #expect(header.filter { $0.hasPrefix("score_") }.count == r.scores.count)
                #expect(row["algorithm"] == r.scores.first?.algorithm)
                #expect(row["value_set"] == (r.scores.compactMap(\.valueSet).first ?? ""))
            }
        }
        #expect(seen == Set(sent.keys), "every forwarded response is exported once")

        let nd = try await target.local.export(.ndjson, catalogue: catalogue, into: folder.appendingPathComponent("nd"), at: t0 + 9000)
        #expect(nd.files == ["results.ndjson", "codebook.json"] && nd.id != csv.id)
        let lines = try String(contentsOf: folder.appendingPathComponent("nd/results.ndjson"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 15)
        for line in lines {
            let object = try JSONParser.parse(String(line))
            let s = try #require(sent[object["response_id"]?.stringValue ?? ""])
            #expect(object["pseudonym"]?.stringValue == s.pseudonym && object["instrument"]?.stringValue == s.response.instrument)
            #expect(object["submitted"]?.stringValue == OsloTime.iso8601(s.response.submittedAt))
            guard case .object(let forwardedAnswers) = try JSONParser.parse(s.response.answersJSON) else {
                Issue.record("answers")
                continue
            }
            for (linkId, value) in forwardedAnswers { #expect(object["answers"]?[linkId] == value, "answer \(linkId) exact") }
            guard case .object(let answers)? = object["answers"] else {
                Issue.record("no answers object")
                continue
            }
            #expect(answers.filter { $0.1 != .null }.count == forwardedAnswers.count, "unanswered items are null")
            for score in s.response.scores {
                let expected: JSONValue = score.number.map(JSONValue.number) ?? score.flag.map(JSONValue.bool) ?? .null
                #expect(object["scores"]?[score.key] == expected, "score \(score.key) exact")
            }
        }
    }

    @Test func theCodebookDescribesEveryColumnAndEveryCodeSeen() async throws {
        let (_, target, folder, _) = try await forwarded()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await target.local.export(.csv, catalogue: catalogue, into: folder, at: t0 + 9000)
        let codebook = try JSONParser.parse(try String(contentsOf: folder.appendingPathComponent("codebook.json"), encoding: .utf8))
        let common = jsonArray(codebook["common"]).compactMap { $0["name"]?.stringValue }
        let instruments = jsonArray(codebook["instruments"])
        #expect(instruments.compactMap { $0["id"]?.stringValue } == ["eq5d-5l", "kvarus-followup", "rand36"])
        let codebookCSV = try csvTable(folder.appendingPathComponent("codebook.csv")).rows
        for described in instruments {
            let id = try #require(described["id"]?.stringValue)
            #expect(described["questionnaire"]?.stringValue == catalogue.instrument(id)?.questionnaire.url)
            #expect(described["version"]?.stringValue == "1.0.0" && described["title"]?.stringValue?.isEmpty == false)
            let variables = jsonArray(described["variables"]) + jsonArray(described["scores"])
            let byName = Dictionary(uniqueKeysWithValues: variables.compactMap { v in v["name"]?.stringValue.map { ($0, v) } })
            let (header, rows) = try csvTable(folder.appendingPathComponent(try #require(described["file"]?.stringValue)))
            #expect(Set(header) == Set(common).union(byName.keys), "\(id): the codebook names exactly the columns")
            for name in header {
                #expect(
                    codebookCSV.contains { $0["variable"] == name && ($0["instrument"] == id || $0["instrument"] == "") },
                    "\(name) in codebook.csv")
            }
            for (name, variable) in byName where name.hasPrefix("item_") {
                #expect(variable["label"]?.stringValue?.isEmpty == false, "\(id) \(name) has a bokmål label")
                let codes = Set(jsonArray(variable["codes"]).compactMap { $0["code"]?.stringValue })
                for value in rows.compactMap({ $0[name] }) where !value.isEmpty {
                    if variable["type"]?.stringValue == "code" {
                        #expect(codes.contains(value), "\(id) \(name): code \(value) is in the codebook")
                    } else {
                        let low = try #require(variable["min"]?.integerValue)
                        let high = try #require(variable["max"]?.integerValue)
                        #expect((low...high).contains(try #require(Int(value))), "\(id) \(name): \(value) within min–max")
                    }
                }
                if variable["type"]?.stringValue == "code" {
                    #expect(jsonArray(variable["codes"]).allSatisfy { $0["label"]?.stringValue != nil })
                }
            }
            for (name, variable) in byName where name.hasPrefix("score_") {
                #expect(variable["algorithm"]?.stringValue == rows.first?["algorithm"], "\(id) \(name): algorithm id")
            }
        }
        let index = try #require(jsonArray(instruments.first?["scores"]).first { $0["name"]?.stringValue == "score_index" })
        let sets = jsonArray(index["valueSets"])
        #expect(sets.compactMap { $0["id"]?.stringValue } == ["no-2024"], "the value sets present in the export")
        #expect(
            sets.first?["doi"]?.stringValue == "10.1007/s11136-024-03837-3" && sets.first?["name"]?.stringValue?.contains("Norway") == true)
    }

    @Test func anExportIsRecordedAndALaterErasureKeepsIt() async throws {
        let (_, target, folder, _) = try await forwarded()
        defer { try? FileManager.default.removeItem(at: folder) }
        let local = target.local
        let record = try await local.export(
            .ndjson, instrument: "rand36", catalogue: catalogue, into: folder.appendingPathComponent("a"), at: t0 + 9000)
        let pseudonyms = Set(target.submissions.map(\.pseudonym))
        #expect(record.rows == 5 && Set(record.pseudonyms) == pseudonyms)
        var stored = try await local.exports()
        #expect(
            stored.map(\.id) == [record.id] && stored[0].rows == 5 && stored[0].format == .ndjson && Set(stored[0].pseudonyms) == pseudonyms
        )
        #expect(stored[0].at == t0 + 9000)

        // The same folder again: refused before anything is recorded.
        await #expect(throws: ExportError.self) {
            try await local.export(.ndjson, catalogue: catalogue, into: folder.appendingPathComponent("a"), at: t0 + 9100)
        }
        #expect(try await local.exports().count == 1, "a refused export is not recorded")

        let gone = record.pseudonyms[0]
        let report = try await local.erase(pseudonym: gone, at: t0 + 10_000)
        #expect(report.kept.count == 1 && report.kept[0].contains(record.id), "the erasure names the export as data already used")
        let later = try await local.export(.csv, catalogue: catalogue, into: folder.appendingPathComponent("b"), at: t0 + 11_000)
        #expect(later.rows == 12 && !later.pseudonyms.contains(gone))
        stored = try await local.exports()
        #expect(stored.map(\.id) == [record.id, later.id])
        #expect(try await local.erase(pseudonym: later.pseudonyms[0], at: t0 + 12_000).kept.count == 2)
    }

    @Test func csvFieldsAreQuotedAsRFC4180Says() {
        #expect(
            CSV.line(["plain", "a,b", "say \"hi\"", "two\r\nlines", "-0.03116", ""])
                == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",-0.03116,\r\n")
    }

    // MARK: The statistics report (§ 4-3)

    @Test func smallCellsAreSuppressedAndLargeOnesShown() async throws {
        let (f, patients, answered) = try await population(
            [("4208", 6, 1), ("4209", 2, 0), ("4210", 0, 5)], instruments: ["rand36", "eq5d-5l"])
        let report = try StatisticsReport(try await f.store.statisticsInput(), minCell: 5)
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.unit, $0) })
        #expect(report.rows.map(\.milestone) == ["baseline", "baseline", "baseline"], "one row per unit and milestone, no totals")

        let large = try #require(rows["4208"])
        #expect(large.invited == .count(7) && large.answered == .count(6) && large.responseRate == .decimal("0.857"))
        // The means, independently: the submitted (exact) scores of the six, summed as decimals.
        var expected: [String: [Decimal]] = [:]
        for invitation in answered["4208"] ?? [] {
            for response in try await f.store.responses(invitationId: invitation) {
                for score in response.scores {
                    if let n = score.number {
                        expected["\(response.instrument).\(score.key)", default: []].append(try #require(ExactNumber.decimal(n)))
                    }
                }
            }
        }
        for (measure, mean) in large.means {
            let values = try #require(expected["\(measure.instrument).\(measure.key)"])
            #expect(mean.n == .count(values.count))
            let want = ExactNumber.text(values.reduce(0, +) / Decimal(values.count), places: measure.key == "index" ? 3 : 1)
            #expect(values.count < 5 ? mean.mean == .suppressed : mean.mean == .decimal(want), "\(measure.name)")
        }
        #expect(large.means.keys.contains(StatisticsReport.Measure(instrument: "eq5d-5l", key: "index", valueSet: "no-2024")))

        let small = try #require(rows["4209"])
        #expect(small.invited == .suppressed && small.answered == .suppressed && small.responseRate == .suppressed)
        #expect(!small.means.isEmpty && small.means.values.allSatisfy { $0 == .init(n: .suppressed, mean: .suppressed) })
        let none = try #require(rows["4210"])
        #expect(none.invited == .count(5) && none.answered == .count(0) && none.responseRate == .suppressed)

        let json = report.json
        let smallJSON = try #require(jsonArray(json["rows"]).first { $0["unit"]?.stringValue == "4209" })
        #expect(smallJSON["invited"] == .string("<5") && smallJSON["answered"] == .string("<5") && smallJSON["responseRate"] == .null)
        #expect(jsonArray(smallJSON["suppressed"]).contains(.string("responseRate")))
        #expect(jsonArray(smallJSON["means"]).allSatisfy { $0["mean"] == .null && $0["n"] == .string("<5") })
        let text = json.serialized + report.csv
        for id in patients.values.flatMap({ $0 }) { #expect(!text.contains(id), "no patient ids in the report") }
        let csv = parseCSV(report.csv)
        #expect(csv.count == 4 && csv[0].prefix(6) == ["unit", "unit_name", "milestone", "invited", "answered", "response_rate"])
        #expect(csv.first { $0[0] == "4209" }?.prefix(6) == ["4209", "Unit 4209", "baseline", "<5", "<5", "<5"])

        // A patient who reserves is left out: processing stops (§ 3-3).
        _ = try await f.store.reserve(patientId: patients["4208"]![0], actor: "test", at: t0 + 86_400)
        let after = try StatisticsReport(try await f.store.statisticsInput(), minCell: 5).rows.first { $0.unit == "4208" }
        #expect(after?.invited == .count(6) && after?.answered == .count(5) && after?.responseRate == .decimal("0.833"))
    }

    @Test func minCellBelowThreeIsRefused() throws {
        let input = StatisticsInput(
            cells: [StatisticsCellCounts(unit: "1", unitName: "U", milestone: "baseline", invited: 3, answered: 3)], scores: [])
        #expect(throws: StatisticsError.self) { try StatisticsReport(input, minCell: 2) }
        do {
            _ = try StatisticsReport(input, minCell: 1)
        } catch {
            #expect(error.field == "minCell")
        }
        let three = try StatisticsReport(input, minCell: 3)
        #expect(three.rows.first?.answered == .count(3) && three.rows.first?.responseRate == .decimal("1.000"))
        #expect(try StatisticsReport(input, minCell: 4).rows.first?.answered == .suppressed)
    }
}
