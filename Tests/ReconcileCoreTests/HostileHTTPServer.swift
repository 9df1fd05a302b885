import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers each request by a script: it can lie, stall and trickle.
///
/// Every connection is served on its own thread and closed after its script; every wait checks
/// whether the server was stopped (at most 50 ms), every send is bounded, and ``stop()`` ends
/// all of them. Tests always call ``stop()`` (``with(_:body:)`` does).
final class HostileHTTPServer: @unchecked Sendable {
    /// One step of an answer.
    enum Step: Sendable {
        /// Sends these bytes.
        case send(Data)
        /// Sends `chunk` `times` times (a never-ending body, bounded only for safety).
        case repeatSend(Data, times: Int)
        /// Sends these bytes one at a time, `interval` apart.
        case trickle(Data, interval: Duration)
        /// Keeps the connection open without sending anything.
        case hold(Duration)
    }

    /// The script: the request target (path and query) to the steps of the answer.
    typealias Script = @Sendable (_ target: String) -> [Step]

    let port: UInt16
    private let listener: Int32
    private let script: Script
    private let lock = NSLock()
    private var stopped = false
    private var targets: [String] = []
    private let group = DispatchGroup()

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The request targets received so far, in order.
    var requests: [String] { lock.withLock { targets } }

    private var isStopped: Bool { lock.withLock { stopped } }

    init(script: @escaping Script) throws {
        self.script = script
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound == 0, listen(socket, 16) == 0 else {
            close(socket)
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = socket
        group.enter()
        Thread { [self] in
            acceptLoop()
            group.leave()
        }.start()
    }

    /// Runs `body` with a server answering by `script`, and always stops it.
    static func with<T>(_ script: @escaping Script, body: (HostileHTTPServer) async throws -> T) async throws -> T {
        let server = try HostileHTTPServer(script: script)
        do {
            let result = try await body(server)
            server.stop()
            return result
        } catch {
            server.stop()
            throw error
        }
    }

    /// Stops accepting, ends every connection's script and waits (at most 5 s) for their threads.
    func stop() {
        lock.withLock { stopped = true }
        _ = group.wait(timeout: .now() + 5)
        close(listener)
    }

    private func acceptLoop() {
        while !isStopped {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            group.enter()
            Thread { [self] in
                serve(connection)
                close(connection)
                group.leave()
            }.start()
        }
    }

    private func serve(_ connection: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 65_536, request.range(of: Data("\r\n\r\n".utf8)) == nil {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            request.append(buffer, count: count)
        }
        let firstLine = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        let target = firstLine.count > 1 ? String(firstLine[1]) : "/"
        lock.withLock { targets.append(target) }
        for step in script(target) {
            guard !isStopped, perform(step, on: connection) else { return }
        }
    }

    /// Performs one step; false when the client went away or the server stopped.
    private func perform(_ step: Step, on connection: Int32) -> Bool {
        switch step {
        case .send(let data):
            return send(data, on: connection)
        case .repeatSend(let chunk, let times):
            for _ in 0..<times {
                guard !isStopped, send(chunk, on: connection) else { return false }
            }
            return true
        case .trickle(let data, let interval):
            for byte in data {
                guard !isStopped, send(Data([byte]), on: connection), pause(interval) else { return false }
            }
            return true
        case .hold(let duration):
            return pause(duration)
        }
    }

    private func pause(_ duration: Duration) -> Bool {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if isStopped { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }

    private func send(_ data: Data, on connection: Int32) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                guard let base = raw.baseAddress else { return false }
                let sent = Glibc.send(connection, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }

    /// A whole answer: status line, headers (with `Content-Length` and `Connection: close` unless given), body.
    static func answer(_ status: Int, headers: [String: String] = [:], body: String = "") -> Step {
        var fields = headers
        if fields["Content-Length"] == nil { fields["Content-Length"] = String(body.utf8.count) }
        if fields["Connection"] == nil { fields["Connection"] = "close" }
        if fields["Content-Type"] == nil { fields["Content-Type"] = "application/json" }
        let head = "HTTP/1.1 \(status) X\r\n" + fields.map { "\($0.key): \($0.value)\r\n" }.joined() + "\r\n"
        return .send(Data((head + body).utf8))
    }

    /// Only the status line and headers (the body follows in later steps).
    static func head(_ status: Int, headers: [String: String]) -> Step {
        let head = "HTTP/1.1 \(status) X\r\n" + headers.map { "\($0.key): \($0.value)\r\n" }.joined() + "\r\n"
        return .send(Data(head.utf8))
    }
}
