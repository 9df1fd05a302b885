#if canImport(Glibc)
    import Glibc
#endif

/// SwiftPM links an executable's entry point as `FuzzJSON_main`: it hands the process to libFuzzer's driver.
@_cdecl("FuzzJSON_main")
public func FuzzJSONMain(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    typealias Callback = @convention(c) (UnsafeRawPointer, Int) -> CInt
    typealias Driver =
        @convention(c) (
            UnsafeMutablePointer<CInt>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
            Callback
        ) -> CInt
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "LLVMFuzzerRunDriver") else {
        "FuzzJSON: not linked with libFuzzer (build it with make fuzz)\n".withCString { _ = write(2, $0, strlen($0)) }
        return 2
    }
    var count = argc
    var arguments = argv
    return unsafeBitCast(symbol, to: Driver.self)(&count, &arguments) { fuzzOneInput($0, $1) }
}
