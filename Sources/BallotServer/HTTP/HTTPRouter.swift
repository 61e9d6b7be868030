import NIOHTTP1

/// Whether a route only reads the node or changes it. Changes (a leadership transfer today; the
/// applications' resignation and candidacy next) need a credential whenever the node has one
/// configured, and are served only on the admin listener when there is one.
public enum HTTPRouteAccess: Sendable, Hashable {
    case read
    case change
}

/// What a route does with a request. It may take as long as it needs (a blocking query waits for a
/// change); it runs in the connection's (or HTTP/2 stream's) own task, never on an event loop.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse

/// One entry of the route table: a fixed name (the `route` label of the request metrics, so it
/// never carries a raw path), the path it answers, the methods it takes, and whether it changes
/// the node.
public struct HTTPRoute: Sendable {
    public let name: String
    public let path: String
    /// The methods the handler takes; `HEAD` is added for every route that takes `GET`.
    public let methods: [HTTPMethod]
    public let access: HTTPRouteAccess
    public let handler: HTTPHandler

    /// The value of an `Allow` header for this route, e.g. `GET, HEAD`.
    public var allowHeader: String { methods.map(\.rawValue).joined(separator: ", ") }
}

/// The route table: a request's method and path to a route, or to why there is none.
///
/// Adding a route is one call, e.g.
/// `router.add("primary", .GET, "/primary") { request in await primary(request) }`.
/// The table is built once, before the endpoint binds, so the set of route names — and with it
/// every `route` label the metrics can show — is fixed for the life of the process.
public struct HTTPRouter: Sendable {
    /// The `route` label of requests whose path matches no route.
    public static let unmatchedRouteName = "other"

    public private(set) var routes: [HTTPRoute] = []
    private var indexByPath: [String: Int] = [:]

    public init() {}

    /// Registers `handler` for `methods` on `path` under the metric name `name`
    /// (lower-case letters, digits and `_`, unique in the table).
    public mutating func add(
        _ name: String, _ methods: HTTPMethod..., path: String, access: HTTPRouteAccess = .read,
        handler: @escaping HTTPHandler
    ) {
        precondition(!methods.isEmpty, "route \(name) needs at least one method")
        precondition(Self.isValidName(name) && name != Self.unmatchedRouteName, "invalid route name \(name)")
        precondition(!routes.contains { $0.name == name }, "route name \(name) is registered twice")
        precondition(indexByPath[path] == nil, "path \(path) is registered twice")
        precondition(path.hasPrefix("/"), "path \(path) must start with /")
        var allowed = methods
        if allowed.contains(.GET) && !allowed.contains(.HEAD) { allowed.insert(.HEAD, at: allowed.firstIndex(of: .GET)! + 1) }
        indexByPath[path] = routes.count
        routes.append(HTTPRoute(name: name, path: path, methods: allowed, access: access, handler: handler))
    }

    /// Every `route` label value: each route's name, then ``unmatchedRouteName``.
    public var routeNames: [String] { routes.map(\.name) + [Self.unmatchedRouteName] }

    public enum Match: Sendable {
        /// Serve it. `headOnly` is set for a `HEAD` answered by the route's `GET` handler.
        case route(HTTPRoute, headOnly: Bool)
        /// The path exists but not with this method: 405 with the route's `Allow` header.
        case methodNotAllowed(HTTPRoute)
        case notFound
    }

    public func match(method: HTTPMethod, path: Substring) -> Match {
        guard let index = indexByPath[String(path)] else { return .notFound }
        let route = routes[index]
        guard route.methods.contains(method) else { return .methodNotAllowed(route) }
        let declaredHead = method == .HEAD && route.handlesHeadItself
        return .route(route, headOnly: method == .HEAD && !declaredHead)
    }

    /// Paths for the 404 message, e.g. `GET /healthz, POST /transfer`.
    var summary: String {
        routes.map { "\($0.methods.filter { $0 != .HEAD }.map(\.rawValue).joined(separator: "|")) \($0.path)" }
            .joined(separator: ", ")
    }

    private static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }
}

extension HTTPRoute {
    /// A route registered with an explicit `HEAD` and no `GET` answers it itself; otherwise `HEAD` is
    /// the `GET` answer without its body.
    var handlesHeadItself: Bool { !methods.contains(.GET) }
}
