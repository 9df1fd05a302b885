#if canImport(Glibc)
    import Glibc
#endif

/// Hands the memory a run has freed back to the system, between the phases of a large run.
///
/// glibc keeps freed heap memory for reuse, in one arena per thread that allocated it, so a
/// phase's working memory (classifying, report.md and payments.csv) stayed counted against the
/// process while the next phase allocated afresh: the peaks of the phases added up (for a run of
/// 200,000 resources, docs/performance.md). `malloc_trim` returns the free pages of every arena.
/// It is looked up at run time: a C library without it (not glibc) has nothing to do here.
enum FreedMemory {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: Trim.self)
        #else
            return nil
        #endif
    }()

    /// Returns the free pages of the heap to the system.
    ///
    /// It walks every arena, so it is called only between the phases of a run, never in a loop.
    static func release() {
        _ = trim?(0)
    }
}
