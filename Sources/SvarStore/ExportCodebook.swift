import Foundation
import SvarDomain
import SvarInstruments

/// One variable as the codebook describes it; `name` is as in the files of this export's format.
/// (Engine-neutral: the codebook is made from the rows and the catalogue alone.)
struct CodebookVariable {
    var name: String
    var label: String?
    var type: String
    var codes: [(code: String, label: String?)] = []
    var min: Int?
    var max: Int?
    var algorithm: String?
    /// The value sets used, for an EQ-5D index (nil for every other variable).
    var valueSets: [(id: String, set: ValueSet?)]?
}

extension ExportWriter {
    func commonVariables() -> [CodebookVariable] {
        let languages = Language.allCases.map {
            (code: $0.rawValue, label: Optional(["nb": "bokmål", "nn": "nynorsk", "en": "engelsk"][$0.rawValue] ?? ""))
        }
        let seen = Set(rows.map(\.language)).subtracting(languages.map(\.code)).sorted().map { (code: $0, label: String?.none) }
        var variables = [
            CodebookVariable(
                name: "pseudonym", label: "Registerets pseudonym for pasienten (nøkkel til registerets identitetshvelv)", type: "string"),
            CodebookVariable(name: "response_id", label: "Svarets id: ett utfylt skjema", type: "string"),
            CodebookVariable(name: "unit", label: "RESH-id for enheten som hadde ansvaret for forløpet da svaret kom inn", type: "string"),
            CodebookVariable(name: "milestone", label: "Måletidspunkt i forløpet (baseline, evaluation, end, followUp1y)", type: "string"),
            CodebookVariable(name: "instrument_version", label: "Skjemaversjonen pasienten svarte på", type: "string"),
            CodebookVariable(name: "submitted", label: "Tidspunktet svaret ble sendt inn (ISO 8601, norsk tid)", type: "datetime"),
            CodebookVariable(name: "language", label: "Språket skjemaet ble besvart på", type: "code", codes: languages + seen),
            CodebookVariable(
                name: "respondent", label: "Hvem som fylte ut skjemaet, slik det ble oppgitt på startsiden", type: "code",
                codes: Respondent.allCases.map { respondent in
                    switch respondent {
                    case .patient: ("patient", "Pasienten selv")
                    case .patientWithHelp: ("patientWithHelp", "Pasienten selv, med hjelp")
                    case .proxy: ("proxy", "En annen for pasienten (foresatt, pårørende eller hjelper)")
                    case .notStated: ("notStated", "Ikke oppgitt (skjemaet ble åpnet uten startsidens spørsmål)")
                    }
                }),
            CodebookVariable(name: "algorithm", label: "Skåringsalgoritmen som ga skårene (id@versjon)", type: "string"),
            CodebookVariable(name: "value_set", label: "EQ-5D-verdisettet indeksen er regnet med (tomt for andre skjema)", type: "string"),
        ]
        if record.format == .ndjson { variables.insert(CodebookVariable(name: "instrument", label: "Skjemaets id", type: "string"), at: 2) }
        return variables
    }

    func variables(_ layout: Layout) -> (items: [CodebookVariable], scores: [CodebookVariable]) {
        let csv = record.format == .csv
        let texts = layout.instrument?.texts[.nb]?.items ?? [:]
        let items = layout.items.map { linkId -> CodebookVariable in
            let question = layout.instrument?.questionnaire.item(linkId: linkId)
            let name = csv ? "item_\(linkId)" : "answers.\(linkId)"
            let defined = (question?.optionCodes ?? []).map { (code: $0, label: texts[linkId]?.options?[$0]) }
            let seen = Set(layout.rows.compactMap { $0.answers[linkId] }).subtracting(defined.map(\.code))
            let type = question?.type == .choice ? "code" : "integer"
            return CodebookVariable(
                name: name, label: texts[linkId]?.text, type: type,
                codes: defined + (type == "code" ? seen.sorted().map { (code: $0, label: String?.none) } : []),
                min: question?.minValue, max: question?.maxValue)
        }
        let known = Dictionary(layout.instrument?.scoreVariables.map { ($0.key, $0) } ?? [], uniquingKeysWith: { a, _ in a })
        let usedSets = Set(layout.rows.compactMap(\.valueSet)).sorted()
        let scores = layout.scores.map { key -> CodebookVariable in
            let variable = known[key]
            var out = CodebookVariable(
                name: csv ? "score_\(key)" : "scores.\(key)", label: variable?.label, type: variable?.type ?? "decimal",
                min: variable?.min, max: variable?.max,
                algorithm: layout.instrument?.scoringAlgorithm ?? layout.rows.first?.algorithm)
            if key == "index", !usedSets.isEmpty || layout.instrument?.valueSets.isEmpty == false {
                out.valueSets = usedSets.map { id in (id, layout.instrument?.valueSets.first { $0.id == id }) }
            }
            return out
        }
        return (items, scores)
    }

    func codebook(_ layouts: [Layout]) -> JSONValue {
        func describe(_ v: CodebookVariable) -> JSONValue {
            var members: [(String, JSONValue)] = [
                ("name", .string(v.name)), ("label", v.label.map(JSONValue.string) ?? .null), ("type", .string(v.type)),
            ]
            if !v.codes.isEmpty {
                members.append(
                    (
                        "codes",
                        .array(v.codes.map { .object([("code", .string($0.code)), ("label", $0.label.map(JSONValue.string) ?? .null)]) })
                    ))
            }
            if let min = v.min { members.append(("min", .int(min))) }
            if let max = v.max { members.append(("max", .int(max))) }
            if let algorithm = v.algorithm { members.append(("algorithm", .string(algorithm))) }
            if let valueSets = v.valueSets {
                members.append(
                    (
                        "valueSets",
                        .array(
                            valueSets.map { id, set in
                                .object([
                                    ("id", .string(id)), ("name", set.map { .string($0.name) } ?? .null),
                                    ("doi", set?.doi.map(JSONValue.string) ?? .null),
                                    ("reference", set.map { .string($0.citation) } ?? .null),
                                ])
                            })
                    ))
            }
            return .object(members)
        }
        return .object([
            (
                "export",
                .object([
                    ("id", .string(record.id)), ("at", .string(OsloTime.iso8601(record.at))), ("format", .string(record.format.rawValue)),
                    ("rows", .int(record.rows)),
                    ("files", .array((record.format == .csv ? layouts.map(\.file) : ["results.ndjson"]).map(JSONValue.string))),
                ])
            ),
            ("missing", .string("An empty cell (CSV) or null (NDJSON): the item was not answered, or the score could not be computed.")),
            ("common", .array(commonVariables().map(describe))),
            (
                "instruments",
                .array(
                    layouts.map { layout in
                        let (items, scores) = variables(layout)
                        let q = layout.instrument?.questionnaire
                        return .object([
                            ("id", .string(layout.id)), ("version", q.map { .string($0.version) } ?? .null),
                            ("versionsInExport", .array(Set(layout.rows.map(\.version)).sorted().map(JSONValue.string))),
                            ("title", (layout.instrument?.texts[.nb]?.title ?? q?.title).map(JSONValue.string) ?? .null),
                            ("questionnaire", q.map { .string($0.url) } ?? .null),
                            ("file", .string(record.format == .csv ? layout.file : "results.ndjson")), ("rows", .int(layout.rows.count)),
                            ("variables", .array(items.map(describe))), ("scores", .array(scores.map(describe))),
                        ])
                    })
            ),
        ])
    }

    /// The same codebook, long: one line per variable, per code and per value set.
    func codebookCSV(_ layouts: [Layout]) -> String {
        var out = CSV.line([
            "instrument", "instrument_version", "instrument_title", "questionnaire_url", "variable", "label", "type", "code",
            "code_label", "min", "max", "algorithm", "value_set", "value_set_name", "value_set_reference",
        ])
        func lines(_ instrument: [String], _ v: CodebookVariable) {
            let head = instrument + [v.name, v.label ?? "", v.type]
            let tail = [v.min.map(String.init) ?? "", v.max.map(String.init) ?? "", v.algorithm ?? ""]
            if !v.codes.isEmpty {
                for code in v.codes { out += CSV.line(head + [code.code, code.label ?? ""] + tail + ["", "", ""]) }
            } else if let valueSets = v.valueSets, !valueSets.isEmpty {
                for (id, set) in valueSets { out += CSV.line(head + ["", ""] + tail + [id, set?.name ?? "", set?.citation ?? ""]) }
            } else {
                out += CSV.line(head + ["", ""] + tail + ["", "", ""])
            }
        }
        for v in commonVariables() { lines(["", "", "", ""], v) }
        for layout in layouts {
            let q = layout.instrument?.questionnaire
            let instrument = [layout.id, q?.version ?? "", layout.instrument?.texts[.nb]?.title ?? q?.title ?? "", q?.url ?? ""]
            let (items, scores) = variables(layout)
            for v in items + scores { lines(instrument, v) }
        }
        return out
    }
}

extension Instrument {
    /// The algorithm id recorded with every score of this instrument (`rand36@1.0`).
    var scoringAlgorithm: String {
        switch scoring {
        case .scaleMeans(let s): return s.algorithm
        case .eq5d(let s): return s.algorithm
        case .indicators(let s): return s.algorithm
        }
    }

    /// Every score key in the order scoring produces them, with its type and a bokmål description for the codebook.
    var scoreVariables: [(key: String, type: String, label: String, min: Int?, max: Int?)] {
        switch scoring {
        case .scaleMeans(let s):
            return s.scales.map {
                ($0.id, "decimal", "Skala: gjennomsnitt av omkodede svar (0–100) på spørsmål \($0.items.joined(separator: ", "))", 0, 100)
            }
        case .eq5d(let s):
            return [
                ("index", "decimal", "EQ-5D-indeks for helsetilstanden, etter verdisettet i value_set", nil, nil),
                ("vas", "integer", "EQ VAS slik pasienten oppga den (spørsmål \(s.vasItem))", 0, 100),
            ]
                + s.dimensions.map { ($0, "integer", "Nivå for dimensjonen \($0)", s.levels.lowerBound, s.levels.upperBound) }
        case .indicators(let s):
            return s.indicators.map { indicator in
                let codes = { (c: Set<Int>) in c.sorted().map(String.init).joined(separator: ", ") }
                switch indicator.rule {
                case .value(let item):
                    let q = questionnaire.item(linkId: item)
                    return (
                        indicator.id, "integer", "Svaret på spørsmål \(item)", q?.minValue ?? q?.optionCodes.compactMap { Int($0) }.min(),
                        q?.maxValue ?? q?.optionCodes.compactMap { Int($0) }.max()
                    )
                case .codeIn(let item, let c):
                    return (indicator.id, "boolean", "Sann når svaret på \(item) er \(codes(c))", nil, nil)
                case .allIn(let items, let c):
                    return (indicator.id, "boolean", "Sann når \(items.joined(separator: ", ")) alle er besvart med \(codes(c))", nil, nil)
                case .anyIn(let items, let c):
                    return (
                        indicator.id, "boolean", "Sann når minst ett av \(items.joined(separator: ", ")) er besvart med \(codes(c))", nil,
                        nil
                    )
                }
            }
        }
    }
}
