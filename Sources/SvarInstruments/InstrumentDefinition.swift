import Foundation

/// The decoded files of one instrument folder, before they are checked against each other.
///
/// `instrument()` is where a registry's edited data is refused if it does not hang together: a text pack
/// that misses a code, a recode for an item that does not exist, two default value sets, …
public struct InstrumentDefinition: Sendable {
    public var folder: String
    public var questionnaire: Questionnaire
    public var textPacks: [(file: String, pack: TextPack)]
    public var scoring: ScoringFile
    public var valueSets: [(file: String, valueSet: ValueSetFile)]
    public var safety: SafetyFile?
    public var charts: ChartFile?
    public var importantDifferences: ImportantDifferenceFile?
    /// The instrument's population norms, where a minimal important difference is derived from their SD.
    public var norms: ScaleNorms?

    public init(
        folder: String, questionnaire: Questionnaire, textPacks: [(file: String, pack: TextPack)],
        scoring: ScoringFile, valueSets: [(file: String, valueSet: ValueSetFile)], safety: SafetyFile? = nil,
        charts: ChartFile? = nil, importantDifferences: ImportantDifferenceFile? = nil, norms: ScaleNorms? = nil
    ) {
        self.folder = folder
        self.questionnaire = questionnaire
        self.textPacks = textPacks
        self.scoring = scoring
        self.valueSets = valueSets
        self.safety = safety
        self.charts = charts
        self.importantDifferences = importantDifferences
        self.norms = norms
    }

    static let requiredLanguages: [Language] = [.nb, .nn, .en]

    public func instrument() throws(DefinitionError) -> Instrument {
        let q = questionnaire
        let qFile = "\(folder)/questionnaire.json"
        try checkQuestionnaire(file: qFile)
        var texts: [Language: TextPack] = [:]
        for (file, pack) in textPacks {
            let problems = pack.mismatches(against: q)
            if let first = problems.first {
                throw DefinitionError(
                    file: file, field: "", reason: first + (problems.count > 1 ? " (and \(problems.count - 1) more)" : ""))
            }
            texts[pack.language] = pack
        }
        for language in InstrumentDefinition.requiredLanguages where texts[language] == nil {
            throw DefinitionError(
                file: "\(folder)/text/\(language.rawValue).json", field: "", reason: "the \(language.rawValue) text pack is missing")
        }
        let scoringFile = "\(folder)/scoring.json"
        guard scoring.algorithm == q.scoringAlgorithm else {
            throw DefinitionError(
                file: scoringFile, field: "algorithm",
                reason: "'\(scoring.algorithm)' differs from the questionnaire's scoring extension '\(q.scoringAlgorithm ?? "none")'")
        }
        let scoring: Instrument.Scoring
        do throws(DefinitionError) {
            scoring = try buildScoring()
        } catch {
            throw error.inFile(scoringFile)
        }
        let safetyItems: [SafetyItem]
        do throws(DefinitionError) {
            safetyItems = try safety?.safetyItems(for: q) ?? []
        } catch {
            throw error.inFile("\(folder)/safety.json")
        }
        let scoreKeys = Instrument(questionnaire: q, texts: texts, scoring: scoring).scoreKeys
        let charted: (charts: [ChartDefinition], reading: ScoreReading)
        do throws(DefinitionError) {
            charted = try charts?.definitions(scoreKeys: scoreKeys) ?? ([], ScoreReading())
        } catch {
            throw error.inFile("\(folder)/charts.json")
        }
        let differences: ImportantDifferences
        do throws(DefinitionError) {
            differences =
                try importantDifferences?.resolved(scoreKeys: scoreKeys, scoring: scoring, norms: norms) ?? ImportantDifferences()
        } catch {
            throw error.inFile("\(folder)/mid.json")
        }
        return Instrument(
            questionnaire: q, texts: texts, scoring: scoring, safety: safetyItems, charts: charted.charts, reading: charted.reading,
            importantDifferences: differences)
    }

    private func checkQuestionnaire(file: String) throws(DefinitionError) {
        let q = questionnaire
        guard q.resourceType == "Questionnaire" else {
            throw DefinitionError(file: file, field: "resourceType", reason: "must be Questionnaire")
        }
        guard q.id == folder else {
            throw DefinitionError(file: file, field: "id", reason: "'\(q.id)' must equal the folder name '\(folder)'")
        }
        guard q.scoringAlgorithm != nil else {
            throw DefinitionError(file: file, field: "extension", reason: "no \(Questionnaire.scoringExtensionURL) extension")
        }
        var seen = Set<String>()
        for item in q.allItems {
            guard seen.insert(item.linkId).inserted else {
                throw DefinitionError(file: file, field: "item[\(item.linkId)]", reason: "linkId is used twice")
            }
            switch item.type {
            case .group, .display: continue
            case .choice:
                let codes = item.optionCodes
                guard !codes.isEmpty, codes.allSatisfy({ Int($0) != nil }), Set(codes).count == codes.count else {
                    throw DefinitionError(
                        file: file, field: "item[\(item.linkId)].answerOption",
                        reason: "a choice item needs distinct whole-number codes")
                }
            case .integer:
                guard let low = item.minValue, let high = item.maxValue, low <= high else {
                    throw DefinitionError(
                        file: file, field: "item[\(item.linkId)].extension",
                        reason: "an integer item needs minValue ≤ maxValue")
                }
            default:
                throw DefinitionError(
                    file: file, field: "item[\(item.linkId)].type",
                    reason: "type \(item.type.rawValue) is not supported (use choice or integer)")
            }
        }
        for item in q.allItems {
            for condition in item.enableWhen ?? [] where q.item(linkId: condition.question)?.type.takesAnswer != true {
                throw DefinitionError(
                    file: file, field: "item[\(item.linkId)].enableWhen",
                    reason: "refers to '\(condition.question)', which is not a question")
            }
        }
    }

    private func buildScoring() throws(DefinitionError) -> Instrument.Scoring {
        let q = questionnaire
        func requireQuestion(_ linkId: String, _ field: String) throws(DefinitionError) -> Questionnaire.Item {
            guard let item = q.item(linkId: linkId), item.type.takesAnswer else {
                throw DefinitionError(field: field, reason: "'\(linkId)' is not a question of \(q.id)")
            }
            return item
        }
        switch scoring.method {
        case "scale-means":
            let means = try scoring.scaleMeans()
            for (i, scale) in means.scales.enumerated() {
                guard scale.halfRuleMinimum >= 1, scale.halfRuleMinimum <= scale.items.count else {
                    throw DefinitionError(field: "scales[\(i)].halfRuleMinimum", reason: "must be 1–\(scale.items.count)")
                }
                for linkId in scale.items {
                    let item = try requireQuestion(linkId, "scales[\(i)].items")
                    let recoded = Set(means.recode[linkId]?.keys.map { String($0) } ?? [])
                    guard recoded == Set(item.optionCodes) else {
                        throw DefinitionError(
                            field: "recodes",
                            reason: "item \(linkId) must be recoded for exactly its codes \(item.optionCodes.joined(separator: ","))")
                    }
                }
            }
            return .scaleMeans(means)
        case "eq5d":
            guard let dimensions = scoring.dimensions, !dimensions.isEmpty, let vas = scoring.vas else {
                throw DefinitionError(field: "dimensions", reason: "method eq5d needs dimensions and vas")
            }
            var maxLevel = 0
            for dimension in dimensions {
                let item = try requireQuestion(dimension, "dimensions")
                let codes = item.optionCodes.compactMap { Int($0) }
                guard codes == Array(1...codes.count) else {
                    throw DefinitionError(field: "dimensions", reason: "\(dimension) must have levels 1…k")
                }
                if maxLevel == 0 { maxLevel = codes.count }
                guard codes.count == maxLevel else {
                    throw DefinitionError(field: "dimensions", reason: "all dimensions must have the same number of levels")
                }
            }
            guard try requireQuestion(vas, "vas").type == .integer else {
                throw DefinitionError(field: "vas", reason: "the VAS item must be an integer item")
            }
            var sets: [ValueSet] = []
            for (file, valueSetFile) in valueSets {
                do throws(DefinitionError) {
                    let set = try valueSetFile.valueSet(dimensions: dimensions, levels: 1...maxLevel)
                    guard set.instrument == q.id else {
                        throw DefinitionError(field: "instrument", reason: "'\(set.instrument)' must be '\(q.id)'")
                    }
                    guard !sets.contains(where: { $0.id == set.id }) else {
                        throw DefinitionError(field: "id", reason: "value set id '\(set.id)' is used twice")
                    }
                    sets.append(set)
                } catch {
                    throw error.inFile(file)
                }
            }
            let defaults = sets.filter(\.isDefault).map(\.id)
            guard defaults.count == 1 else {
                throw DefinitionError(
                    file: "\(folder)/valuesets", field: "default",
                    reason:
                        "exactly one value set must be the default (found \(defaults.isEmpty ? "none" : defaults.joined(separator: ", ")))")
            }
            return .eq5d(
                EQ5DScoring(
                    algorithm: scoring.algorithmId, dimensions: dimensions, vasItem: vas,
                    levels: 1...maxLevel, valueSets: sets.sorted { $0.id < $1.id }))
        case "indicators":
            let indicators = try scoring.indicatorRules()
            for (i, indicator) in indicators.indicators.enumerated() {
                for linkId in indicator.rule.items { _ = try requireQuestion(linkId, "indicators[\(i)]") }
            }
            return .indicators(indicators)
        default:
            throw DefinitionError(field: "method", reason: "'\(scoring.method)' is not one of scale-means, eq5d, indicators")
        }
    }
}
