import Foundation
import Logging
import PostgresNIO
import SvarDomain
import SvarStore

/// One open transaction: the few ways the store methods talk to PostgreSQL. Values are always bound
/// (`PostgresQuery` interpolation makes `$n` parameters); only fixed SQL text is ever spliced in.
struct Transaction {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs a statement and discards its rows.
    func execute(_ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger).collect()
    }

    /// Runs a statement that ends in `RETURNING 1` and counts the rows it touched.
    func count(_ query: PostgresQuery) async throws -> Int {
        try await connection.query(query, logger: logger).collect().count
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
        try await rows(query).first
    }

    func exists(_ query: PostgresQuery) async throws -> Bool {
        try await row(query) != nil
    }

    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        try await row(query)?[0].decode(T.self)
    }
}

extension PostgresClient {
    /// Runs `body` in one transaction on a pooled connection with `schema` as the transaction-local search path
    /// (nil: the role's default), so a pooled connection never keeps another store's schema. Shared by Svar's store
    /// and the registry store, which may use one pool. Errors from `body` come out as thrown (not wrapped in
    /// PostgresNIO's transaction error), so callers see `StoreError`s; a unique violation becomes a conflict.
    func transaction<Result: Sendable>(
        schema: String?, logger: Logger, _ body: (Transaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger) { connection in
                let tx = Transaction(connection: connection, logger: logger)
                if let schema {
                    try await tx.execute("SELECT set_config('search_path', \(schema), true)")
                }
                return try await body(tx)
            }
        } catch let error as PostgresTransactionError {
            throw PostgresStore.domainError(error.closureError ?? error.commitError ?? error.beginError ?? error)
        } catch {
            throw PostgresStore.domainError(error)
        }
    }
}

extension PostgresRandomAccessRow {
    func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    func date(_ column: String) throws -> Date { Date(seconds: try decode(column, as: Int64.self)) }

    func optionalDate(_ column: String) throws -> Date? { try decode(column, as: Int64?.self).map(Date.init(seconds:)) }

    func bytes(_ column: String) throws -> [UInt8] { [UInt8](try decode(column, as: Data.self)) }

    /// Text kept one item a line (outbox failures, deletion reports).
    func lines(_ column: String) throws -> [String] {
        (try decode(column, as: String?.self) ?? "").split(separator: "\n").map(String.init)
    }

    func sealed(keyId: String = "key_id", box: String = "sealed") throws -> SealedIdentity {
        SealedIdentity(keyId: try decode(keyId), box: try bytes(box))
    }

    /// A text column read as one of an enumeration's cases; any other value is a corrupt row (an error that
    /// names the table, column and value), never a quiet default. `named` is the column's name in its table
    /// when the query renamed it.
    func strict<Value: RawRepresentable>(
        _ column: String, in table: String, named: String? = nil, as: Value.Type = Value.self
    ) throws -> Value where Value.RawValue == String {
        let raw: String = try decode(column)
        guard let value = Value(rawValue: raw) else { throw StoreError.corruptValue(table: table, column: named ?? column, value: raw) }
        return value
    }

    /// The same for a column that may be NULL.
    func strictIfPresent<Value: RawRepresentable>(
        _ column: String, in table: String, named: String? = nil, as: Value.Type = Value.self
    ) throws -> Value? where Value.RawValue == String {
        guard let raw = try decode(column, as: String?.self) else { return nil }
        guard let value = Value(rawValue: raw) else { throw StoreError.corruptValue(table: table, column: named ?? column, value: raw) }
        return value
    }

    /// A calendar date stored as `YYYY-MM-DD`.
    func date(_ column: String, in table: String) throws -> LocalDate {
        let raw: String = try decode(column)
        guard let date = LocalDate(iso: raw) else { throw StoreError.corruptValue(table: table, column: column, value: raw) }
        return date
    }
}
