import CProcessGuard
import GhostIR

/// Connects GhostIR's file announcements to the C signal handlers (CProcessGuard): on SIGINT,
/// SIGTERM or SIGHUP every temporary output file is removed and the tool exits 130, 143 or 129;
/// a fault on a mapped input that shrank is `[file-changed]`, exit 2, instead of a crash.
struct ProcessGuard: FileActivityObserver {
    static func install() {
        gg_install()
        FileActivity.observer = ProcessGuard()
    }

    func temporaryFileCreated(_ path: String) -> Int { Int(gg_register_temporary(path)) }
    func temporaryFileGone(_ token: Int) { gg_forget_temporary(Int32(token)) }
    func fileMapped(base: UnsafeRawPointer, count: Int, path: String) -> Int { Int(gg_register_mapping(base, count, path)) }
    func fileUnmapped(_ token: Int) { gg_forget_mapping(Int32(token)) }
}
