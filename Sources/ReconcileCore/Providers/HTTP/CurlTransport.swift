import CCurl
import Dispatch
import Foundation

/// One libcurl easy handle, used from one serial queue so its connections are reused safely.
///
/// `@unchecked Sendable`: the handle is touched only on `queue`, which serialises every use.
final class CurlTransport: @unchecked Sendable {
    enum Outcome: Sendable {
        case response(HTTPResponse)
        case timeout
        /// The deadline had passed when the handle was free: nothing was sent.
        case expired
        case connectionFailed(String)
        /// The answer broke a limit (body or header size): it is refused, never retried.
        case refused(String)
        /// The task waiting for it was cancelled.
        case cancelled
    }

    /// What one request may take: its time and the size of its answer.
    struct Limits: Sendable {
        var connectTimeout: Duration
        /// The whole request, from connecting to the last body byte (a trickling answer ends here).
        var totalTimeout: Duration
        /// The largest body read; a larger `Content-Length` or body refuses the answer.
        var maxBodyBytes: Int
        /// The most header bytes read.
        var maxHeaderBytes = 64 << 10
        /// When the client's deadline runs out: both timeouts are cut to what is left of it when
        /// the handle takes the request up, not when the request was handed over (it may wait for
        /// the handle behind another request); nil: no deadline.
        var deadline: ContinuousClock.Instant? = nil

        /// These limits for a request taken up at `now`; nil when the deadline has passed.
        ///
        /// What is left is rounded up to the next millisecond (libcurl counts whole ones), so that a
        /// timeout at the cut falls at or after the deadline and is reported as the deadline.
        func taken(at now: ContinuousClock.Instant) -> Limits? {
            guard let deadline else { return self }
            let left = deadline - now
            guard left > .zero else { return nil }
            let cut = left + .milliseconds(1)
            var limits = self
            limits.connectTimeout = min(connectTimeout, cut)
            limits.totalTimeout = min(totalTimeout, cut)
            return limits
        }
    }

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    private let queue = DispatchQueue(label: "reconcile.curl")
    private let handle: UnsafeMutableRawPointer?

    init() {
        _ = Self.globalInit
        handle = curl_easy_init()
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    /// GETs `url` within `limits`; redirects are never followed.
    ///
    /// Cancelling the calling task ends the transfer within about a second (libcurl asks its
    /// progress callback at least that often) as ``Outcome/cancelled``: a read that gives up its
    /// list leaves no request running. A stop the process was asked for (``Interruption``) does
    /// not: the request ends as it would, and the command stops at its next safe point.
    ///
    /// - Returns: The outcome, and when the handle took the request up: a request waits on `queue`
    ///   for the one before it, and that wait is no part of the provider's time.
    func perform(url: String, headers: [String], limits: Limits) async -> (
        outcome: Outcome, started: ContinuousClock.Instant
    ) {
        let cancellation = Cancellation()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async {
                    let started = ContinuousClock.now
                    let outcome = self.performNow(
                        url: url,
                        headers: headers,
                        limits: limits,
                        takenAt: started,
                        cancellation: cancellation
                    )
                    continuation.resume(returning: (outcome, started))
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// Whether a transfer's task was cancelled; set from any thread, read by libcurl's callback.
    final class Cancellation: @unchecked Sendable {
        private let lock = NSLock()
        private var cancelled = false

        func cancel() { lock.withLock { cancelled = true } }

        var isCancelled: Bool { lock.withLock { cancelled } }
    }

    private final class Sink {
        var body = Data()
        var headers: [String: String] = [:]
        var headerBytes = 0
        let limits: Limits
        /// Why the answer was cut off, when a limit stopped it.
        var refusal: String?
        let cancellation: Cancellation

        init(limits: Limits, cancellation: Cancellation) {
            self.limits = limits
            self.cancellation = cancellation
        }
    }

    /// Sends the request the handle took up at `takenAt`; nothing is sent for a request cancelled
    /// while it waited, or taken up past the deadline.
    private func performNow(
        url: String,
        headers: [String],
        limits: Limits,
        takenAt: ContinuousClock.Instant,
        cancellation: Cancellation
    ) -> Outcome {
        guard let handle else { return .connectionFailed("libcurl could not create a handle") }
        guard !cancellation.isCancelled else { return .cancelled }
        guard let limits = limits.taken(at: takenAt) else { return .expired }
        let sink = Sink(limits: limits, cancellation: cancellation)
        let sinkPointer = Unmanaged.passRetained(sink).toOpaque()
        defer { Unmanaged<Sink>.fromOpaque(sinkPointer).release() }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in headers { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }

        reconcile_curl_setopt_string(handle, CURLOPT_URL, url)
        reconcile_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        reconcile_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        reconcile_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        reconcile_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        reconcile_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 0)
        reconcile_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Self.millis(limits.connectTimeout)))
        reconcile_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Self.millis(limits.totalTimeout)))
        // Less than 64 bytes/s for 20 s is a stalled answer, even within the total timeout.
        reconcile_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 64)
        reconcile_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, 20)
        // A Content-Length above the limit is refused before the body is read.
        reconcile_curl_setopt_long(handle, CURLOPT_MAXFILESIZE, limits.maxBodyBytes)
        reconcile_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        reconcile_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        reconcile_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)
        reconcile_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { pointer, size, count, userdata in
            guard let pointer, let userdata else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            // A larger answer is not a documented response: stop reading it (bounded memory).
            guard sink.body.count + length <= sink.limits.maxBodyBytes else {
                sink.refusal = "the body is larger than the \(sink.limits.maxBodyBytes >> 20) MiB limit"
                return 0
            }
            sink.body.append(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
            return length
        }
        reconcile_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { pointer, size, count, userdata in
            guard let pointer, let userdata else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            sink.headerBytes += length
            guard sink.headerBytes <= sink.limits.maxHeaderBytes else {
                sink.refusal = "the headers are larger than \(sink.limits.maxHeaderBytes >> 10) KiB"
                return 0
            }
            let line = String(
                decoding: UnsafeRawBufferPointer(start: pointer, count: length),
                as: UTF8.self
            )
            if line.hasPrefix("HTTP/") { sink.headers = [:] }
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                sink.headers[name] = value
            }
            return length
        }
        reconcile_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, sinkPointer)
        reconcile_curl_setopt_xferinfo_function(handle) { userdata, _, _, _, _ in
            guard let userdata else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            // Non-zero ends the transfer with CURLE_ABORTED_BY_CALLBACK.
            return sink.cancellation.isCancelled ? 1 : 0
        }
        reconcile_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        let code = curl_easy_perform(handle)
        reconcile_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
        if let refusal = sink.refusal { return .refused(refusal) }
        switch code {
        case CURLE_FILESIZE_EXCEEDED:
            return .refused("the Content-Length is larger than the \(limits.maxBodyBytes >> 20) MiB limit")
        case CURLE_OK:
            var status = 0
            reconcile_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return .response(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled
        default:
            return .connectionFailed(String(cString: curl_easy_strerror(code)))
        }
    }

    private static func millis(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
