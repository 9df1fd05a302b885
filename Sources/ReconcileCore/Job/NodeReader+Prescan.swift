import CYaml
import Foundation

extension NodeReader {
    /// The most YAML events (scalars, lists, mappings) a job file may hold; a real one has about 100.
    static let maxEvents = 10_000
    /// The deepest nesting of lists and mappings a job file may have; a real one has 3.
    static let maxDepth = 8

    /// Refuses what a job file never needs before Yams composes it: anchors, aliases, tags, and size.
    ///
    /// Yams resolves an alias by copying the anchored node into every place that names it, so
    /// nested aliases (an alias bomb) make a small file expand exponentially as soon as anything
    /// walks or hashes the tree; explicit tags (`!!binary`, `!custom`) change what a value means.
    /// Neither belongs in a job file, so libyaml's event stream is read first and either one, or
    /// more than ``maxEvents`` events or ``maxDepth`` levels, is a `JobFileError` with its line.
    /// A text libyaml cannot parse is left to Yams, whose error message is more helpful.
    static func prescan(text: String, file: String) throws {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw JobFileError.notYAML(file: file, line: 1, problem: "the YAML parser could not start")
        }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            yaml_parser_set_input_string(&parser, base, buffer.count)
            var events = 0
            var depth = 0
            while events <= maxEvents {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                events += 1
                let line = Int(event.start_mark.line) + 1
                if let problem = refusal(event) {
                    throw JobFileError.notYAML(file: file, line: line, problem: problem)
                }
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    depth += 1
                    if depth > maxDepth {
                        throw JobFileError.notYAML(
                            file: file,
                            line: line,
                            problem: "lists and mappings nest deeper than \(maxDepth) levels"
                        )
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                case YAML_STREAM_END_EVENT:
                    return
                default:
                    break
                }
            }
            throw JobFileError.notYAML(
                file: file,
                line: Int(parser.mark.line) + 1,
                problem: "more than \(maxEvents) values; a job file needs a few dozen"
            )
        }
    }

    /// Why `event` has no place in a job file, or nil.
    private static func refusal(_ event: yaml_event_t) -> String? {
        switch event.type {
        case YAML_ALIAS_EVENT:
            return "an alias (*name); anchors and aliases are not allowed in a job file"
        case YAML_SCALAR_EVENT:
            if event.data.scalar.anchor != nil { return "an anchor (&name); anchors are not allowed in a job file" }
            if event.data.scalar.tag != nil { return "an explicit tag (!…); tags are not allowed in a job file" }
        case YAML_SEQUENCE_START_EVENT:
            if event.data.sequence_start.anchor != nil {
                return "an anchor (&name); anchors are not allowed in a job file"
            }
            if event.data.sequence_start.tag != nil {
                return "an explicit tag (!…); tags are not allowed in a job file"
            }
        case YAML_MAPPING_START_EVENT:
            if event.data.mapping_start.anchor != nil {
                return "an anchor (&name); anchors are not allowed in a job file"
            }
            if event.data.mapping_start.tag != nil {
                return "an explicit tag (!…); tags are not allowed in a job file"
            }
        case YAML_DOCUMENT_START_EVENT:
            if event.data.document_start.tag_directives.start != event.data.document_start.tag_directives.end {
                return "a %TAG directive; tags are not allowed in a job file"
            }
        default:
            break
        }
        return nil
    }
}
