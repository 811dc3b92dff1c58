import ArgumentParser
import Foundation
import SvarAssets
import SvarInstruments

struct Instruments: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, check and extend the instruments (questionnaires, text packs, value sets).",
        subcommands: [List.self, Check.self, Import.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the instruments with version, languages and number of questions (value sets: svar score --list-value-sets).")

        func run() throws {
            let catalogue = try loadCatalogue()
            for instrument in catalogue.instruments {
                let q = instrument.questionnaire
                let languages = instrument.texts.keys.sorted().map { language in
                    "\(language.rawValue)\(instrument.texts[language]?.official == true ? "*" : "")"
                }
                print(
                    "\(q.id)\t\(q.version)\t\(q.title ?? "")\tlanguages: \(languages.joined(separator: " "))\tquestions: "
                        + "\(q.questions.count)"
                )
            }
            print("(* = official/licensed wording installed)")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the instrument folder (SVAR_INSTRUMENTS_DIR, or DIR) and report the first problem with file and field."
        )

        @Argument(help: "An instruments folder to check instead of the configured one.")
        var directory: String?

        func run() throws {
            do {
                let catalogue: InstrumentCatalogue
                if let directory {
                    catalogue = try InstrumentLoader.catalogue(instruments: URL(fileURLWithPath: directory))
                } else {
                    catalogue = try InstrumentLoader.catalogue(try AssetDirectories.resolve())
                }
                print("ok: \(catalogue.instruments.count) instruments, \(catalogue.valueSets.count) value sets")
            } catch {
                throw fail("\(error)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install licensed text packs from DIR into SVAR_TEXT_PACKS_DIR (default ./text-packs).",
            discussion: "Every pack is checked against its instrument first; one mismatch refuses the whole import."
        )

        @Argument(help: "Folder with text pack files (<anything>.json, each naming its instrument and language).")
        var directory: String

        func run() throws {
            do {
                let directories = try AssetDirectories.resolve()
                let catalogue = try InstrumentLoader.catalogue(directories)
                let installed = try TextPackInstaller.install(
                    from: URL(fileURLWithPath: directory), into: directories, catalogue: catalogue)
                for pack in installed {
                    print("installed \(pack.instrument) \(pack.language.rawValue) → \(pack.destination.path)")
                }
            } catch {
                throw fail("\(error)")
            }
        }
    }
}

func loadCatalogue() throws -> InstrumentCatalogue {
    do {
        return try InstrumentLoader.catalogue(try AssetDirectories.resolve())
    } catch {
        throw fail("\(error)")
    }
}
