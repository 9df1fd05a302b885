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
public enum FreedMemory {
    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias Option = @convention(c) (Int32, Int32) -> Int32

    /// glibc's `M_ARENA_MAX` option of `mallopt`.
    private static let arenaMaxOption: Int32 = -8

    private static let option = function("mallopt", as: Option.self)

    private static let trim = function("malloc_trim", as: Trim.self)

    /// The C library's function `name`, of type `type`; nil where the library has none (not glibc).
    private static func function<Function>(_ name: String, as type: Function.Type) -> Function? {
        #if canImport(Glibc)
            guard let symbol = dlsym(nil, name) else { return nil }
            return unsafeBitCast(symbol, to: type)
        #else
            return nil
        #endif
    }

    /// Keeps the heap to two arenas, where glibc makes up to eight a core (one for each thread
    /// that allocates while the others' are in use).
    ///
    /// A long list is read in up to eight slices at once (`CredicorpReader.chains`), so more threads
    /// allocate pages at once, each filling an arena of its own that stays counted against the
    /// process. At a million events a dry run's peak RSS was 177 MB with glibc's default and
    /// 140 MB with two arenas, the first run's 237 and 223 MB, in the same time (docs/performance.md).
    /// Called once, first thing, before any other thread allocates.
    public static func useTwoArenas() {
        _ = option?(arenaMaxOption, 2)
    }

    /// Returns the free pages of the heap to the system.
    ///
    /// It walks every arena, so it is called only between the phases of a run, never in a loop.
    static func release() {
        _ = trim?(0)
    }
}
