import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Another run holds the store's lock (exit status 4).
public struct LockFailure: ReconcileFailure {
    public var lockPath: String
    public var exitStatus: Int32 { 4 }
    public var description: String { "another run holds the lock \(lockPath); not starting" }
}

/// An exclusive `flock` on `<store>.lock`, held for the life of the run.
///
/// The kernel releases it when the process ends however it ends, so a crashed or killed run
/// never leaves a lock that blocks the next night.
public final class StoreLock: Sendable {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock at once or throws `LockFailure`; never waits.
    public init(storePath: String) throws {
        path = storePath + ".lock"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreFailure("open the lock file \(path)", POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(fd)
            if error == EWOULDBLOCK { throw LockFailure(lockPath: path) }
            throw StoreFailure("lock \(path)", POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO))
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
