/// Where `svar serve` listens, read from the environment (`SVAR_HOST`, `SVAR_PORT`).
public struct ServerSettings: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }

    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> ServerSettings {
        var settings = ServerSettings()
        if let host = environment["SVAR_HOST"], !host.isEmpty { settings.host = host }
        if let text = environment["SVAR_PORT"], !text.isEmpty {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw ConfigurationError(variable: "SVAR_PORT", reason: "'\(text)' is not a port number (0–65535)")
            }
            settings.port = port
        }
        return settings
    }
}

/// A configuration variable with a bad value: names the variable and says what is wrong.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    public let reason: String
    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }
    public var description: String { "\(variable): \(reason)" }
}
