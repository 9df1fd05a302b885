import Foundation

@testable import ReconcileCore

/// The environment every fuzzed job file sees: the variables the seed job files name.
let fuzzEnvironment = [
    "CREDICORP_API_KEY": "sk_test_fuzz", "CREDICORP_WHSEC": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "CREDICORP_WHSEC_PREVIOUS": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "CREZCO_API_KEY": "ck_fuzz",
    "CREDIFY_API_KEY": "cf_fuzz", "CREDIFY_PUBLIC_KEY": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
]

/// libFuzzer entry: the job-file reader (`JobFile.parse`, YAML through Yams and `NodeReader`) on the input.
///
/// Any outcome but a crash is fine: a job file is either a `JobConfig` or a thrown error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? JobFile.parse(text: text, file: "fuzz.yml", environment: fuzzEnvironment)
    return 0
}
