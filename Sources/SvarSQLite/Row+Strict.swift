import Foundation
import GRDB
import SvarDomain
import SvarStore

extension Row {
    /// A text column read as one of an enumeration's cases; any other value is a corrupt row (an error that
    /// names the table, column and value), never a quiet default.
    func strict<Value: RawRepresentable>(_ column: String, in table: String, as: Value.Type = Value.self) throws -> Value
    where Value.RawValue == String {
        let raw: String = self[column]
        guard let value = Value(rawValue: raw) else { throw StoreError.corruptValue(table: table, column: column, value: raw) }
        return value
    }

    /// The same for a column that may be NULL.
    func strictIfPresent<Value: RawRepresentable>(_ column: String, in table: String, as: Value.Type = Value.self) throws -> Value?
    where Value.RawValue == String {
        guard let raw = self[column] as String? else { return nil }
        guard let value = Value(rawValue: raw) else { throw StoreError.corruptValue(table: table, column: column, value: raw) }
        return value
    }

    /// A calendar date stored as `YYYY-MM-DD`.
    func date(_ column: String, in table: String) throws -> LocalDate {
        let raw: String = self[column]
        guard let date = LocalDate(iso: raw) else { throw StoreError.corruptValue(table: table, column: column, value: raw) }
        return date
    }
}
