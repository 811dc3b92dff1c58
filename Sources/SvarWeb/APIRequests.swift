/// The JSON bodies the API takes. Every member is optional here so that a missing one is refused by the route
/// with the member's name ("is required"), as the contract says; texts are trimmed there.

struct UnitRequest: APIRequestBody {
    var resh: String?
    var name: String?
    var parent: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case resh, name, parent }
}

struct EnrolRequest: APIRequestBody {
    var identityNumber: String?
    var name: String?
    var email: String?
    var mobile: String?
    var language: String?
    var birthDate: String?
    var channels: [String]?
    enum CodingKeys: String, CodingKey, CaseIterable { case identityNumber, name, email, mobile, language, birthDate, channels }
}

struct CourseRequest: APIRequestBody {
    var unit: String?
    var type: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case unit, type }
}

struct EventRequest: APIRequestBody {
    var type: String?
    var date: String?
    var unit: String?
    var nprCode: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case type, date, unit, nprCode }
}
