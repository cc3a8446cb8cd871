/// Lists (`list NAME "标题" = ["a", "b"]`): named sets of strings such as watch lists, and the
/// `x in NAME` / `x not in NAME` conditions over them.
extension Checker {
    /// Registers a list; a duplicate name is reported and ignored.
    func declare(_ l: ListDecl) {
        if let first = listIndex[l.name.name] {
            diagnostics.error(l.name.location, "duplicate list '\(l.name.name)' (first declared at \(lists[first].name.location))")
            return
        }
        listIndex[l.name.name] = lists.count
        lists.append(l)
        listSets.append(Set(l.items))
    }

    /// `x in NAME`: `x` must be a string (an entity id, a status, a district code …).
    func inNamedList(_ x: Typed, _ list: Identifier, negated: Bool, at: SourceLocation) -> Typed {
        guard let i = listIndex[list.name] else {
            diagnostics.error(list.location, Suggest.message("unknown list '\(list.name)'", list.name, among: lists.map(\.name.name)))
            return .error
        }
        guard x.type != .error, comparable(.equal, x.type, .string, at: at) else { return .error }
        usage.lists.insert(i)
        return Typed(node: .inSet(x.node, listSets[i], negated: negated), type: .bool)
    }

    /// The lists by name, for `RuleProgram.lists`.
    var compiledLists: [String: Set<String>] {
        Dictionary(zip(lists.map(\.name.name), listSets), uniquingKeysWith: { a, _ in a })
    }
}
