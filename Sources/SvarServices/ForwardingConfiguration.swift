import Foundation
import SvarDelivery
import SvarRegistry
import SvarStore

/// The registry target and retry policy of this installation, from the environment (README: configuration
/// table). Without `SVAR_REGISTRY_URL`, results go to the local registry store (`SVAR_REGISTRY_STORE`,
/// by default `registry.sqlite` beside Svar's own database).
public struct ForwardingConfiguration: Sendable {
    public var target: any RegistryTarget
    public var policy: ForwardingPolicy
    /// The local registry store, when it is the target (export and statistics read it).
    public var localStore: (any RegistryArchive)?

    /// `openLocalStore` opens the local registry store where it is (the storage engine is the caller's choice).
    public static func fromEnvironment(
        _ env: [String: String], database: DatabaseLocation, vault: IdentityVault,
        openLocalStore: (_ location: RegistryArchiveLocation, _ vault: IdentityVault) async throws -> any RegistryArchive
    ) async throws(DeliveryConfigurationError) -> ForwardingConfiguration {
        func value(_ key: String) -> String? {
            guard let v = env[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func seconds(_ key: String, _ range: ClosedRange<Double>) throws(DeliveryConfigurationError) -> Double? {
            guard let text = value(key) else { return nil }
            guard let number = Double(text), range.contains(number) else {
                throw DeliveryConfigurationError(
                    variable: key, reason: "'\(text)' is not a number of seconds from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        var policy = ForwardingPolicy()
        if let text = value("SVAR_FORWARD_ATTEMPTS") {
            guard let n = Int(text), (1...100).contains(n) else {
                throw DeliveryConfigurationError(variable: "SVAR_FORWARD_ATTEMPTS", reason: "'\(text)' is not a whole number from 1 to 100")
            }
            policy.attempts = n
        }
        // Whole seconds at least: retry times are stored to the second.
        if let first = try seconds("SVAR_FORWARD_RETRY_FIRST", 1...86_400) { policy.backoff.first = first }
        if let longest = try seconds("SVAR_FORWARD_RETRY_LONGEST", 1...604_800) { policy.backoff.longest = longest }
        guard policy.backoff.longest >= policy.backoff.first else {
            throw DeliveryConfigurationError(
                variable: "SVAR_FORWARD_RETRY_LONGEST", reason: "must not be shorter than SVAR_FORWARD_RETRY_FIRST")
        }
        if let basis = value("SVAR_DISCLOSURE_BASIS") { policy.basis = basis }
        if let url = value("SVAR_REGISTRY_URL") {
            var settings = try RegistrySettings(
                base: url, token: value("SVAR_REGISTRY_TOKEN"), caFile: value("SVAR_REGISTRY_CA_FILE"),
                identity: value("SVAR_REGISTRY_IDENTITY"))
            if let timeout = try seconds("SVAR_REGISTRY_TIMEOUT", 1...300) { settings.timeout = timeout }
            do {
                return ForwardingConfiguration(target: try FHIRRegistryClient(settings: settings), policy: policy, localStore: nil)
            } catch {
                throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_CA_FILE", reason: "not a PEM certificate: \(error)")
            }
        }
        for variable in ["SVAR_REGISTRY_TOKEN", "SVAR_REGISTRY_CA_FILE", "SVAR_REGISTRY_IDENTITY", "SVAR_REGISTRY_TIMEOUT"]
        where value(variable) != nil {
            throw DeliveryConfigurationError(
                variable: variable, reason: "applies only with SVAR_REGISTRY_URL (the local registry store is in use)")
        }
        let location = try localStoreLocation(env, database: database)
        do {
            let store = try await openLocalStore(location, vault)
            return ForwardingConfiguration(target: store, policy: policy, localStore: store)
        } catch {
            throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_STORE", reason: "cannot open \(location) (\(error))")
        }
    }

    /// Where the local registry store is: `SVAR_REGISTRY_STORE` (a path, `sqlite:PATH` or `postgres://…`, its
    /// password optionally in `SVAR_REGISTRY_STORE_PASSWORD_FILE`), or beside Svar's database.
    public static func localStoreLocation(_ env: [String: String], database: DatabaseLocation) throws(DeliveryConfigurationError)
        -> RegistryArchiveLocation
    {
        let configured = env["SVAR_REGISTRY_STORE"]?.trimmingCharacters(in: .whitespaces)
        var password: String?
        if let path = env["SVAR_REGISTRY_STORE_PASSWORD_FILE"], !path.isEmpty {
            do {
                password = try SvarConfiguration.password(file: path)
            } catch {
                throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_STORE_PASSWORD_FILE", reason: error.reason)
            }
        }
        do {
            return try RegistryArchiveLocation.resolve(configured, beside: database, password: password)
        } catch {
            throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_STORE", reason: error.reason)
        }
    }

    /// Ends the registry client's connections (an HTTP client must be shut down before it is released).
    public func shutdown() async {
        try? await (target as? FHIRRegistryClient)?.shutdown()
    }
}
